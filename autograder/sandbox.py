"""Run an untrusted command in a sandbox, with no root and no container: ``python -m
autograder.sandbox [options] -- COMMAND ...``.

Layers, each used when the machine offers it (:func:`capabilities` says which do):

* **namespaces** (unprivileged user namespace + PID, network and mount namespaces): no network at
  all; no capabilities outside, even when grading as root; a private /proc; the only writable
  directory is a fresh size-limited tmpfs; and when the sandbox's PID 1 exits or is killed, the
  kernel kills every process the student started (double-forked daemons included).
* **Landlock** (Linux >= 5.13): the file system is read-only and limited to an allowlist (Python,
  its packages, the course's code, a few system files): no solutions/, no gradebook, no other
  submission, no home directory. Landlock ABI >= 4 also denies TCP; >= 6 denies signals to, and
  abstract sockets of, processes outside the sandbox.
* **resource limits**: CPU seconds, address space, file size, open files, number of processes.
* a clean environment, an empty working directory, ``PR_SET_NO_NEW_PRIVS`` and
  ``PR_SET_PDEATHSIG`` (the sandbox dies with the process that started it).

The launcher stays outside the new PID namespace as a small supervisor: it forwards signals (so a
Jupyter kernel can be interrupted), waits, and exits with the command's status.
"""

import argparse
import ctypes
import ctypes.util
import json
import os
import resource
import signal
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

# --- Linux constants ------------------------------------------------------------------------------
CLONE_NEWNS, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x20000, 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 0x4000, 0x40000
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SYS_LANDLOCK_CREATE_RULESET, SYS_LANDLOCK_ADD_RULE, SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
FS_EXECUTE, FS_WRITE_FILE, FS_READ_FILE, FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FS_REMOVE_DIR, FS_REMOVE_FILE, FS_MAKE_CHAR, FS_MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
FS_MAKE_REG, FS_MAKE_SOCK, FS_MAKE_FIFO, FS_MAKE_BLOCK = 1 << 8, 1 << 9, 1 << 10, 1 << 11
FS_MAKE_SYM, FS_REFER, FS_TRUNCATE, FS_IOCTL_DEV = 1 << 12, 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1, 2
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2
FS_RIGHTS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
FILE_ONLY = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV
READ = FS_EXECUTE | FS_READ_FILE | FS_READ_DIR
WRITE = (FS_WRITE_FILE | FS_REMOVE_DIR | FS_REMOVE_FILE | FS_MAKE_DIR | FS_MAKE_REG | FS_MAKE_SYM
         | FS_MAKE_FIFO | FS_MAKE_SOCK | FS_TRUNCATE | FS_REFER)
SOCKETS_ONLY = FS_READ_FILE | FS_READ_DIR | FS_MAKE_SOCK | FS_REMOVE_FILE

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)

SYSTEM_READ_PATHS = [
    "/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin", "/etc/ld.so.cache", "/etc/ld.so.conf",
    "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
    "/etc/fonts", "/etc/mime.types", "/dev/zero", "/dev/urandom", "/dev/random",
    "/sys/devices/system/cpu", "/proc",
]
SYSTEM_WRITE_FILES = ["/dev/null"]


@dataclass
class Limits:
    """Resource limits of one sandbox."""
    cpu_seconds: int = 60
    memory_bytes: int = 2 * 1024 ** 3
    file_bytes: int = 16 * 1024 ** 2
    open_files: int = 256
    processes: int = 256          # on top of what the user already runs
    tmpfs_bytes: int = 64 * 1024 ** 2


@dataclass
class Policy:
    """What the sandboxed command may touch."""
    read: list = field(default_factory=list)      # extra read-only paths
    sockets: list = field(default_factory=list)   # dirs where it may create Unix sockets (IPC)
    limits: Limits = field(default_factory=Limits)
    env: dict = field(default_factory=dict)       # extra environment variables
    workdir: str = ""                              # an empty directory: cwd and the only writable place
    seed_files: dict = field(default_factory=dict)  # {source path: name in workdir}, copied in first
    log: str = ""                                  # if set, the command's stdout and stderr go here


@dataclass
class Capabilities:
    namespaces: bool
    landlock_abi: int

    @property
    def isolated(self):
        """Enough to run untrusted code: file-system isolation and no network."""
        return self.landlock_abi >= 1 and (self.namespaces or self.landlock_abi >= 4)

    def describe(self):
        parts = [f"Landlock ABI {self.landlock_abi}" if self.landlock_abi else "no Landlock",
                 "user/PID/network/mount namespaces" if self.namespaces else "no namespaces"]
        return ", ".join(parts)


def landlock_abi():
    if not sys.platform.startswith("linux"):
        return 0
    abi = _libc.syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                        ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION))
    return max(int(abi), 0)


_CAPABILITIES = None


def capabilities():
    """What this machine can do, probed once (in a throwaway child process for namespaces)."""
    global _CAPABILITIES
    if _CAPABILITIES is None:
        _CAPABILITIES = Capabilities(_namespaces_work(), landlock_abi())
    return _CAPABILITIES


def _namespaces_work():
    if not sys.platform.startswith("linux"):
        return False
    pid = os.fork()
    if pid == 0:
        try:
            _enter_namespaces()
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


# --- the pieces -----------------------------------------------------------------------------------

def _check(result, what):
    if result == -1:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
    return result


def _enter_namespaces():
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID), "unshare")
    Path("/proc/self/setgroups").write_text("deny")
    Path("/proc/self/uid_map").write_text(f"0 {uid} 1")
    Path("/proc/self/gid_map").write_text(f"0 {gid} 1")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source.encode(), str(target).encode(), fstype.encode() if fstype else None,
                       ctypes.c_ulong(flags), data.encode() if data else None), f"mount {target}")


def _private_mounts(workdir, tmpfs_bytes):
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmpfs_bytes},mode=0700")
    try:  # a /proc that shows only this sandbox's processes
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass  # some containers forbid it; Landlock still limits what /proc reveals


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


def _landlock(abi, read_paths, write_paths, socket_paths, write_files=()):
    fs_rights = FS_RIGHTS_BY_ABI.get(abi, (1 << 16) - 1)
    attr = _RulesetAttr(fs_rights, NET_BIND_TCP | NET_CONNECT_TCP if abi >= 4 else 0,
                        SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else (16 if abi >= 4 else 8)
    ruleset = _check(_libc.syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr),
                                   ctypes.c_size_t(size), ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        for paths, rights in ((read_paths, READ), (write_paths, READ | WRITE),
                              (socket_paths, SOCKETS_ONLY), (write_files, READ | FS_WRITE_FILE)):
            for path in paths:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except OSError:
                    continue  # a path this machine does not have
                try:
                    allowed = rights & fs_rights
                    if not os.path.isdir(path):
                        allowed &= FILE_ONLY
                    rule = _PathBeneath(allowed, fd)
                    _check(_libc.syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_int(ruleset),
                                         ctypes.c_int(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule),
                                         ctypes.c_uint32(0)), f"landlock_add_rule {path}")
                finally:
                    os.close(fd)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(_libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)),
               "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _set_limits(limits, own_user_namespace):
    def cap(kind, value):
        soft, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))
    cap(resource.RLIMIT_CPU, limits.cpu_seconds)
    if sys.platform.startswith("linux"):  # macOS cannot limit the address space
        cap(resource.RLIMIT_AS, limits.memory_bytes)
    cap(resource.RLIMIT_FSIZE, limits.file_bytes)
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_CORE, 0)
    # In a new user namespace the process count starts from zero; otherwise it counts every
    # process this user already runs.
    if os.path.isdir("/proc"):
        running = 0 if own_user_namespace else sum(1 for p in os.listdir("/proc") if p.isdigit())
        cap(resource.RLIMIT_NPROC, running + limits.processes)


def python_read_paths():
    """What a Python process of this installation needs to read: the interpreter, its packages and
    bplib. Not the autograder package: its directory also holds the grading state (gradebook,
    submissions), so code that runs sandboxed is a standalone script given by path."""
    paths = {sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    paths.update(p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p)
    import bplib

    paths.add(os.path.dirname(bplib.__file__))
    return sorted(paths)


def matplotlib_font_cache():
    """{path of matplotlib's font cache: its file name}, built once in a per-user cache directory,
    so a sandbox's fresh MPLCONFIGDIR does not rebuild it (about 2 s)."""
    import subprocess

    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bpcourse" / "matplotlib"
    found = sorted(cache.glob("fontlist-*.json"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-I", "-c", "import matplotlib.font_manager"], check=False,
                       env={**os.environ, "MPLCONFIGDIR": str(cache)}, capture_output=True)
        found = sorted(cache.glob("fontlist-*.json"))
    return {str(found[-1]): found[-1].name} if found else {}


def clean_environment(policy):
    workdir = policy.workdir
    env = {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "HOME": workdir,
           "TMPDIR": workdir, "MPLCONFIGDIR": workdir, "IPYTHONDIR": os.path.join(workdir, ".ipython"),
           "JUPYTER_CONFIG_DIR": os.path.join(workdir, ".jupyter"), "MPLBACKEND": "agg",
           "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
           "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    env.update(policy.env)
    return env


# --- the launcher ---------------------------------------------------------------------------------

def run(policy, command):
    """Replace this process by the sandbox supervisor of ``command``; never returns."""
    caps = capabilities()
    workdir = policy.workdir
    os.makedirs(workdir, exist_ok=True)
    if caps.namespaces:
        _enter_namespaces()
    child = os.fork()
    if child == 0:
        try:
            _become_sandboxed(policy, caps, command)
        except BaseException as error:  # noqa: BLE001
            os.write(2, f"sandbox: {error}\n".encode())
            os._exit(126)
    _supervise(child)


def _become_sandboxed(policy, caps, command):
    linux = sys.platform.startswith("linux")
    if linux:
        _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    os.setpgid(0, 0)
    if caps.namespaces:
        _private_mounts(policy.workdir, policy.limits.tmpfs_bytes)
    os.chdir(policy.workdir)
    for source, name in policy.seed_files.items():  # e.g. matplotlib's font cache: 2 s saved
        with open(source, "rb") as src, open(os.path.join(policy.workdir, name), "wb") as dst:
            dst.write(src.read())
    if policy.log:  # opened before Landlock takes away the right to
        fd = os.open(policy.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    _set_limits(policy.limits, caps.namespaces)
    if caps.landlock_abi:
        read = SYSTEM_READ_PATHS + python_read_paths() + list(policy.read)
        _landlock(caps.landlock_abi, read, [policy.workdir], list(policy.sockets), SYSTEM_WRITE_FILES)
    env = clean_environment(policy)
    os.makedirs(env["IPYTHONDIR"], exist_ok=True)
    os.closerange(3, 1024)
    os.execve(command[0], command, env)


def _supervise(child):
    """Forward signals to the sandboxed process group, wait, exit with its status."""
    def forward(signum, frame):
        try:
            os.killpg(child, signum)
        except OSError:
            pass
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                   signal.SIGUSR2):
        signal.signal(signum, forward)
    while True:
        try:
            _, status = os.waitpid(child, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:
            os._exit(1)
    code = os.waitstatus_to_exitcode(status)
    os._exit(128 - code if code < 0 else code)


def command_line(policy, command, python=sys.executable):
    """The argv that runs ``command`` under ``policy`` (for Popen or a kernelspec)."""
    return [python, "-I", "-m", "autograder.sandbox", "--policy", json.dumps(asdict(policy)), "--",
            *command]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.sandbox", description=__doc__)
    parser.add_argument("--policy", required=True, help="JSON of a Policy")
    parser.add_argument("--workdir", help="override the policy's working directory")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    data = json.loads(args.policy)
    policy = Policy(**{**data, "limits": Limits(**data.get("limits", {}))})
    if args.workdir:
        policy.workdir = args.workdir
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or not policy.workdir:
        parser.error("need a working directory and a command")
    if not os.path.isabs(command[0]):
        found = [os.path.join(d, command[0]) for d in os.environ.get("PATH", "").split(":")
                 if os.access(os.path.join(d, command[0]), os.X_OK)]
        if not found:
            sys.exit(f"sandbox: command not found: {command[0]}")
        command[0] = found[0]
    run(policy, command)


if __name__ == "__main__":
    sys.exit(main())
