"""Landlock inside the sandbox, for the one thing bubblewrap cannot say: "this directory holds
sockets and nothing else". Runs as ``python -I confine.py SOCKETS_DIR -- COMMAND ...`` inside the
sandbox (standard library only: the autograder package is not there), restricts the process, then
runs COMMAND in the same process (a module given as ``-m NAME``, or a program by exec).

A Jupyter kernel must create its IPC sockets in a host directory bound read-write into the
sandbox; without this, student code could also fill that directory (host disk) with files. With
Landlock (Linux 5.13+) the rules are: beneath SOCKETS_DIR only sockets may be created and removed;
beneath /tmp and /dev (the sandbox's own tmpfs mounts) anything; everywhere else no writes (those
mounts are read-only anyway). A kernel (``-m ipykernel_launcher``) then adds a second layer once
it has bound its sockets, before any student code runs: no socket file may be made anywhere, so
the folder cannot be filled with socket files either. Without Landlock it runs COMMAND unchanged
and the directory is bounded only by the file-size limit and the notebook's time limit
(docs/instructor.md).
"""

import ctypes
import os
import runpy
import sys

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38
WRITE_FILE, REMOVE_DIR, REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
MAKE_CHAR, MAKE_DIR, MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = (
    1 << 6, 1 << 7, 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12)
REFER, TRUNCATE = 1 << 13, 1 << 14
WRITES = (WRITE_FILE | REMOVE_DIR | REMOVE_FILE | MAKE_CHAR | MAKE_DIR | MAKE_REG | MAKE_SOCK
          | MAKE_FIFO | MAKE_BLOCK | MAKE_SYM)
WRITES_BY_ABI = {1: WRITES, 2: WRITES | REFER}  # ABI 3+ also handles TRUNCATE


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1, 2


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi():
    """The Landlock ABI version this kernel offers (0: none)."""
    if not sys.platform.startswith("linux"):
        return 0
    abi = _libc().syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0),
                          ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(int(abi), 0)


def _check(result, what):
    if result == -1:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")
    return result


def _enforce(attr, rules=()):
    """Create a Landlock ruleset from ``attr`` (a _RulesetAttr), add ``rules`` ([(path,
    allowed access)]), and restrict this process to it (with no_new_privs, as Landlock requires)."""
    libc = _libc()
    size = ctypes.sizeof(_RulesetAttr) if attr.scoped else 8  # the older kernels' struct: 8 bytes
    ruleset = _check(libc.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                                  ctypes.c_uint32(0)), "landlock_create_ruleset")
    try:
        for path, allowed in rules:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC | os.O_DIRECTORY)
            try:
                rule = _PathBeneath(allowed, fd)
                _check(libc.syscall(SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH),
                                    ctypes.byref(rule), ctypes.c_uint32(0)), f"landlock_add_rule {path}")
            finally:
                os.close(fd)
        _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(libc.syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)),
               "landlock_restrict_self")
    finally:
        os.close(ruleset)
    return True


def restrict(sockets, free=("/tmp", "/dev")):
    """Writes only beneath ``free``; beneath ``sockets`` only sockets. False without Landlock."""
    abi = landlock_abi()
    if not abi:
        return False
    handled = WRITES_BY_ABI.get(abi, WRITES | REFER | TRUNCATE)
    return _enforce(_RulesetAttr(handled),
                    [(path, handled) for path in free] + [(sockets, (MAKE_SOCK | REMOVE_FILE) & handled)])


def scope_signals():
    """Landlock ABI 6+: no signal to a process outside this sandbox's Landlock domain, its own
    parent (bwrap) included. So code that kills its parent cannot make the grader's process die a
    moment later, after the grader has moved on. False without it."""
    if landlock_abi() < 6:
        return False
    return _enforce(_RulesetAttr(0, 0, SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET))


def forbid_sockets():
    """A second Landlock layer: no socket files anywhere from now on (a kernel calls it once it
    has made its own), so the socket folder cannot be filled with them either."""
    if not landlock_abi():
        return False
    return _enforce(_RulesetAttr(MAKE_SOCK))


def run_kernel(argv):
    """ipykernel's launcher in steps: make the kernel (it binds its sockets), forbid any further
    socket file, then serve."""
    from ipykernel.kernelapp import IPKernelApp

    app = IPKernelApp.instance()
    app.initialize(argv)
    forbid_sockets()
    scope_signals()
    app.start()


def main(argv):
    sockets, separator, *command = argv
    if separator != "--" or not command:
        sys.exit("usage: confine.py SOCKETS_DIR -- COMMAND ...")
    restrict(sockets)
    if command[:4] == [sys.executable, "-I", "-m", "ipykernel_launcher"]:
        sys.argv = ["ipykernel_launcher", *command[4:]]
        run_kernel(command[4:])
    elif command[:2] == [sys.executable, "-I"] and len(command) > 3 and command[2] == "-m":
        sys.argv = [command[3], *command[4:]]
        runpy.run_module(command[3], run_name="__main__", alter_sys=True)
    else:
        os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
