"""Run untrusted code under bubblewrap (``bwrap``, the sandbox Flatpak uses):
``python -I -m autograder.sandbox --policy JSON -- COMMAND ...`` replaces itself by the sandbox.

What the sandboxed command gets (see :func:`bwrap_arguments`):

* **its own file-system view**: a fresh root containing only, read-only, ``/usr`` (and the
  ``/lib``, ``/bin`` links into it), the Python installation and its packages, bplib, and the
  files the policy names; a private size-limited tmpfs at ``/tmp`` (its working directory and
  home); a minimal ``/dev`` with a small ``/dev/shm``; a ``/proc`` of its own processes. No course
  directory, answer keys (``autograder`` is not there, and a copy installed in site-packages is
  hidden), gradebook, other submissions, ``/home``, ``/root``'s files, ``/run``, ``/var/run`` or
  host sockets.
* **every namespace unshared** (user, pid, network, ipc, uts, cgroup): no network at all (a
  loopback of its own), no Unix socket of the host (path-named ones are not in its view, abstract
  ones belong to the host's network namespace), no signals to processes outside; ``--disable-userns``
  forbids nested user namespaces; ``--new-session`` (no terminal injection); ``--die-with-parent``.
* **no privileges**: it runs as an unprivileged uid with no capabilities and ``no_new_privs``.
  When the grader is root, the outer bwrap sets up the mounts as root, then ``setpriv`` drops to a
  uid of its own (:data:`BASE_UID` + the launcher's pid: no other process shares it, so the
  process limit is per sandbox: ``RLIMIT_NPROC`` is not enforced for uid 0) and an inner bwrap adds
  the user namespace. For another user, one unprivileged bwrap does it all.
* **resource limits** set before bwrap starts and inherited: CPU seconds, address space, file
  size, open files, processes, core dumps.
* **Landlock** (the one layer bwrap lacks, ``autograder/confine.py``): a Jupyter kernel's socket
  directory, the only host directory it may write to, accepts sockets and nothing else.

Without bwrap (or where it cannot create namespaces) :func:`capabilities` says why; the grader then
refuses to run unless told ``--insecure``, and the command runs with the limits only.
"""

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONFINE = HERE / "confine.py"
BASE_UID = 2_000_000_000   # + the launcher's pid: a uid no other process uses (grading as root)
INSIDE = "/run/bpcourse"   # where the policy's files appear in the sandbox
SOCKETS = f"{INSIDE}/sockets"
KERNEL_CONNECTION = f"{INSIDE}/kernel.json"
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `apt-get install bubblewrap`; Fedora: `dnf install "
                "bubblewrap`) and see docs/instructor.md, 'Isolation'")
PR_SET_PDEATHSIG = 1


@dataclass
class Limits:
    """Resource limits of one sandbox (seconds, bytes, counts)."""
    cpu_seconds: int = 60
    memory_bytes: int = 2 * 1024 ** 3
    file_bytes: int = 16 * 1024 ** 2
    open_files: int = 256
    processes: int = 256
    tmpfs_bytes: int = 64 * 1024 ** 2
    shm_bytes: int = 1024 ** 2


@dataclass
class Policy:
    """What the sandboxed command may see besides Python, bplib and its tmpfs.

    ``files``: {host file: path inside} bound read-only (e.g. the grading child's script, the
    grader's verdicts); ``sockets``: a host directory bound read-write at :data:`SOCKETS`, for a
    Jupyter kernel's IPC sockets (Landlock lets it hold sockets only); ``kernel``: the command is a
    Jupyter kernel whose ``-f CONNECTION_FILE`` argument is copied in (ports and key kept, the
    sockets moved to :data:`SOCKETS`); ``log``: a host file for the command's stdout and stderr (a
    kernel without one gets its own, beside its sockets' folder, removed with it);
    ``env``: extra environment variables; ``insecure``: run without bwrap (limits only).
    """
    files: dict = field(default_factory=dict)
    sockets: str = ""
    kernel: bool = False
    log: str = ""
    env: dict = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    insecure: bool = False


@dataclass
class Capabilities:
    bwrap: str            # path of bwrap, "" if not installed
    version: str
    works: bool           # a trial sandbox ran
    problem: str          # why not, in one line
    landlock_abi: int

    @property
    def isolated(self):
        return self.works

    def describe(self):
        if not self.works:
            return f"none ({self.problem})"
        mode = "as root: mounts by bwrap, then uid of its own" if os.geteuid() == 0 else "unprivileged"
        landlock = (f"Landlock ABI {self.landlock_abi} on kernel sockets" if self.landlock_abi
                    else "no Landlock")
        return (f"bubblewrap {self.version} ({mode}; user, pid, net, ipc, uts, cgroup namespaces; "
                f"read-only Python and bplib, private /tmp; {landlock})")


_CAPABILITIES = None


def capabilities():
    """What this machine offers, probed once with a trial sandbox."""
    global _CAPABILITIES
    if _CAPABILITIES is None:
        _CAPABILITIES = _probe()
    return _CAPABILITIES


def _probe():
    from autograder.confine import landlock_abi

    abi = landlock_abi()
    path = shutil.which("bwrap") or ""
    if not sys.platform.startswith("linux"):
        return Capabilities("", "", False, "sandboxing needs Linux", abi)
    if not path:
        return Capabilities("", "", False, f"bubblewrap (bwrap) is not installed: {INSTALL_HINT}", abi)
    version = subprocess.run([path, "--version"], capture_output=True, text=True).stdout.split()[-1:]
    trial = subprocess.run(command_line(Policy(limits=Limits(cpu_seconds=10)),
                                        [sys.executable, "-I", "-c", "0"]),
                           capture_output=True, text=True, timeout=60)
    if trial.returncode != 0:
        reason = (trial.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return Capabilities(path, "".join(version), False, f"bwrap could not start a sandbox: {reason}. "
                            "User namespaces may be disabled (Ubuntu's AppArmor, Docker's seccomp): "
                            "see docs/instructor.md, 'Isolation'", abi)
    return Capabilities(path, "".join(version), True, "", abi)


# --- what goes into the sandbox -------------------------------------------------------------------

def python_paths():
    """Host directories a Python process of this installation reads, outside ``/usr`` (which is
    mounted whole): the interpreter's prefixes, its package directories, and bplib (an editable
    install keeps it in the course's folder, of which nothing else is mounted)."""
    import bplib

    paths = {sys.base_prefix, sys.prefix, sys.exec_prefix, os.path.dirname(os.path.abspath(bplib.__file__))}
    paths.update(p for p in sys.path
                 if p and os.path.isdir(p) and ("site-packages" in p or "dist-packages" in p))
    real = {os.path.realpath(p) for p in paths}
    real = {p for p in real if p != "/usr" and not p.startswith("/usr/")}
    # keep only the outermost of nested paths
    return sorted(p for p in real if not any(p.startswith(q + os.sep) for q in real))


def hidden_paths():
    """The grader's own package wherever a non-editable install put it (site-packages): covered
    with an empty tmpfs, so the answer keys are not in the sandbox whatever the installation."""
    hidden = []
    for entry in sys.path:
        candidate = os.path.join(entry, "autograder") if entry else ""
        if candidate and os.path.isdir(candidate) and not os.path.islink(candidate) \
                and os.path.realpath(candidate) != str(HERE):
            hidden.append(os.path.realpath(candidate))
    return hidden


def matplotlib_font_cache():
    """{path of matplotlib's font cache: its file name}, built once in a per-user cache directory,
    so a sandbox's fresh MPLCONFIGDIR does not rebuild it (about 2 s)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "bpcourse" / "matplotlib"
    found = sorted(cache.glob("fontlist-*.json"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-I", "-c", "import matplotlib.font_manager"], check=False,
                       env={**os.environ, "MPLCONFIGDIR": str(cache)}, capture_output=True)
        found = sorted(cache.glob("fontlist-*.json"))
    return {str(found[-1]): found[-1].name} if found else {}


def environment(policy):
    env = {"PATH": os.path.dirname(sys.executable) + ":/usr/bin:/bin", "HOME": "/tmp",
           "TMPDIR": "/tmp", "MPLCONFIGDIR": "/tmp", "IPYTHONDIR": "/tmp/.ipython",
           "JUPYTER_CONFIG_DIR": "/tmp/.jupyter", "JUPYTER_RUNTIME_DIR": "/tmp/.runtime",
           "MPLBACKEND": "agg", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
           "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
           "MKL_NUM_THREADS": "1"}
    env.update(policy.env)
    return env


def _directories_above(paths, mounted):
    """Every directory above ``paths`` that bwrap must create (outermost first). It makes them
    0755, so the unprivileged uid inside can reach the mounts below them (bwrap's default is 0700)."""
    out = []
    for path in paths:
        parts = Path(path).parts
        for i in range(2, len(parts)):
            ancestor = str(Path(*parts[:i]))
            if ancestor not in out and not any(ancestor == m or ancestor.startswith(m + os.sep)
                                               for m in mounted):
                out.append(ancestor)
    return out


def bwrap_arguments(policy, inside_uid=None, data_fds=()):
    """The options of the (outer) bwrap: mounts, namespaces, environment. ``data_fds``:
    [(fd, path inside)] of data to copy in read-only (e.g. a kernel's connection file)."""
    python = python_paths()
    args = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
            "--die-with-parent", "--new-session", "--clearenv"]
    if inside_uid is None:  # unprivileged: one bwrap, with its own user namespace
        args += ["--unshare-user", "--disable-userns"]
    else:  # as root: keep only what setpriv needs to drop to inside_uid
        args += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                 "--cap-add", "CAP_SETPCAP"]
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ("lib", "lib64", "lib32", "bin", "sbin"):
        target = Path("/") / name
        if target.is_symlink():
            args += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            args += ["--ro-bind", str(target), str(target)]
    for etc in ("/etc/ld.so.cache", "/etc/localtime"):
        if os.path.exists(etc):
            args += ["--ro-bind", etc, etc]
    # the private /tmp first: a Python installation under the host's /tmp (a CI checkout, a
    # throwaway venv) is then bound on top of it, not hidden by it
    args += ["--proc", "/proc", "--dev", "/dev",
             "--size", str(policy.limits.shm_bytes), "--perms", "1777", "--tmpfs", "/dev/shm",
             "--size", str(policy.limits.tmpfs_bytes), "--perms", "1777", "--tmpfs", "/tmp"]
    inside = [SOCKETS, KERNEL_CONNECTION, f"{INSIDE}/confine.py", *policy.files.values()]
    for directory in _directories_above(python + inside, ["/usr"]):
        if directory != "/tmp":  # already there, and writable by all (1777)
            args += ["--perms", "0755", "--dir", directory]
    for path in python:
        args += ["--ro-bind", path, path]
    for path in hidden_paths():
        args += ["--tmpfs", path]
    for source, name in matplotlib_font_cache().items():
        args += ["--ro-bind", source, f"/tmp/{name}"]
    for source, destination in policy.files.items():
        args += ["--ro-bind", source, destination]
    if policy.sockets:
        args += ["--bind", policy.sockets, SOCKETS]
    for fd, destination in data_fds:
        args += ["--perms", "0444", "--ro-bind-data", str(fd), destination]
    for name, value in environment(policy).items():
        args += ["--setenv", name, str(value)]
    args += ["--chdir", "/tmp"]
    return args


def _confine_prefix(policy):
    """Inside the sandbox, before the command: Landlock on the socket directory (kernels only)."""
    if not policy.sockets:
        return []
    return [sys.executable, "-I", f"{INSIDE}/confine.py", SOCKETS, "--"]


# --- the launcher ---------------------------------------------------------------------------------

def command_line(policy, command, python=sys.executable):
    """The argv that runs ``command`` under ``policy`` (for Popen or a kernelspec)."""
    return [python, "-I", "-m", "autograder.sandbox", "--policy", json.dumps(asdict(policy)), "--",
            *command]


def _set_limits(limits):
    def cap(kind, value):
        _, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))
    cap(resource.RLIMIT_CPU, limits.cpu_seconds)
    cap(resource.RLIMIT_AS, limits.memory_bytes)
    cap(resource.RLIMIT_FSIZE, limits.file_bytes)
    cap(resource.RLIMIT_NOFILE, limits.open_files)
    cap(resource.RLIMIT_CORE, 0)


def _set_process_limit(limits, uid_of_its_own):
    """RLIMIT_NPROC counts every process of the real uid: a uid of its own starts from 0; the
    grader's own uid (unprivileged mode) already runs some, which are added."""
    running = 0
    if not uid_of_its_own:
        me = os.getuid()
        for entry in os.listdir("/proc"):
            try:
                running += entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == me
            except OSError:
                continue
    value = running + limits.processes
    _, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    value = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(resource.RLIMIT_NPROC, (value, value))


def _kernel_connection(policy, command):
    """Replace ``-f FILE`` by the path inside; return the rewritten connection data (bytes). With
    the ipc transport the sockets' directory (made by the grader for this kernel) is bound in."""
    index = command.index("-f") + 1
    with open(command[index], encoding="utf-8") as file:
        info = json.load(file)
    if info.get("transport") == "ipc":
        policy.sockets = os.path.dirname(info["ip"])
        info["ip"] = f"{SOCKETS}/{os.path.basename(info['ip'])}"
    command[index] = KERNEL_CONNECTION
    return json.dumps(info).encode()


def _data_fd(data):
    read, write = os.pipe()
    os.write(write, data)  # small (a connection file): fits in the pipe's buffer
    os.close(write)
    os.set_inheritable(read, True)
    return read


def run(policy, command):
    """Replace this process by the sandbox of ``command``; never returns."""
    import ctypes

    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # die with whoever started us
    data_fds = []
    if policy.kernel:
        data_fds.append((_data_fd(_kernel_connection(policy, command)), KERNEL_CONNECTION))
        if policy.sockets and not policy.log:  # a log of its own, beside its sockets' folder
            policy.log = policy.sockets.rstrip("/") + ".log"
    if policy.log:
        fd = os.open(policy.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    _set_limits(policy.limits)
    if policy.insecure:
        _set_process_limit(policy.limits, False)
        os.execve(command[0], command, {**os.environ, **environment(policy), "HOME": os.getcwd(),
                                        "TMPDIR": os.getcwd(), "MPLCONFIGDIR": os.getcwd()})
    if policy.sockets:  # Landlock keeps it to sockets (confine.py runs first, inside)
        policy.files = {**policy.files, str(CONFINE): f"{INSIDE}/confine.py"}
    bwrap = shutil.which("bwrap")
    inner = _confine_prefix(policy) + command
    if os.geteuid() == 0:
        uid = BASE_UID + os.getpid()
        if policy.sockets:
            os.chown(policy.sockets, uid, uid)
        _set_process_limit(policy.limits, True)
        argv = [bwrap, *bwrap_arguments(policy, uid, data_fds), "--",
                "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", "--",
                bwrap, "--unshare-user", "--disable-userns", "--die-with-parent", "--dev-bind", "/", "/",
                "--chdir", "/tmp", "--", *inner]
    else:
        _set_process_limit(policy.limits, False)
        argv = [bwrap, *bwrap_arguments(policy, None, data_fds), "--", *inner]
    os.execv(bwrap, argv)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.sandbox", description=__doc__)
    parser.add_argument("--policy", required=True, help="JSON of a Policy")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    data = json.loads(args.policy)
    policy = Policy(**{**data, "limits": Limits(**data.get("limits", {}))})
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("need a command")
    if not os.path.isabs(command[0]):
        found = shutil.which(command[0])
        if not found:
            sys.exit(f"sandbox: command not found: {command[0]}")
        command[0] = found
    run(policy, command)


if __name__ == "__main__":
    sys.exit(main())
