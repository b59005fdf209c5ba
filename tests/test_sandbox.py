"""The sandbox's protections, each shown to hold (and the allowed things to still work)."""

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from autograder import sandbox
from autograder.course import REPO

CAPS = sandbox.capabilities()
pytestmark = pytest.mark.skipif(not CAPS.isolated, reason=f"no isolation here: {CAPS.describe()}")


def run(tmp_path, code, limits=None, timeout=60, **policy):
    script = tmp_path / "untrusted.py"
    script.write_text(textwrap.dedent(code))
    work = tmp_path / "work"
    pol = sandbox.Policy(workdir=str(work), read=[str(script)], limits=limits or sandbox.Limits(),
                         **policy)
    return subprocess.run(sandbox.command_line(pol, [sys.executable, "-I", str(script)]),
                          capture_output=True, text=True, timeout=timeout)


def test_numpy_matplotlib_and_bplib_work_inside(tmp_path):
    out = run(tmp_path, """
        import numpy as np, matplotlib.pyplot as plt, bplib.layers
        plt.plot([1, 2]); plt.savefig("plot.png")
        print(float(np.ones(3) @ np.ones(3)), bplib.layers.Linear(2, 3, rng=0))
    """)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["3.0", "Linear(2", "->", "3)"]


@pytest.mark.parametrize("path", [
    REPO / "solutions", REPO / "autograder", REPO / "nbgrader_config.py", "/root", "/etc/shadow",
    "/home"])
def test_course_state_and_private_files_cannot_be_read(tmp_path, path):
    out = run(tmp_path, f"""
        import os
        p = {str(path)!r}
        try:
            os.listdir(p) if os.path.isdir(p) else open(p).read(1)
            print("READ")
        except PermissionError:
            print("denied")
    """)
    assert out.stdout.strip() in ("denied", ""), out.stdout  # "" if the path does not exist here


def test_nothing_outside_the_workdir_can_be_written(tmp_path):
    target = tmp_path / "outside.txt"
    out = run(tmp_path, f"""
        open("inside.txt", "w").write("ok")
        try:
            open({str(target)!r}, "w").write("x")
        except PermissionError:
            print("denied")
    """)
    assert out.stdout.strip() == "denied" and not target.exists()


def test_no_network(tmp_path):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass
    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    try:
        urllib_ok = run(tmp_path, f"""
            import urllib.request, socket
            for attempt in (lambda: urllib.request.urlopen("http://127.0.0.1:{port}", timeout=2),
                            lambda: socket.create_connection(("127.0.0.1", {port}), timeout=2),
                            lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
                                b"x", ("10.0.0.1", 53))):
                try:
                    attempt()
                    print("CONNECTED")
                except OSError:
                    print("blocked")
        """)
    finally:
        server.shutdown()
    assert urllib_ok.stdout.split() == ["blocked"] * 3
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # the server itself was reachable from outside the sandbox


def test_processes_outside_cannot_be_signalled(tmp_path):
    victim = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        out = run(tmp_path, f"""
            import os, signal
            for pid in ({victim.pid}, {os.getpid()}, 1, -1):
                try:
                    os.kill(pid, signal.SIGKILL)
                    print("KILLED", pid)
                except OSError:
                    print("refused")
        """)
        assert "KILLED" not in out.stdout.replace("KILLED 1\n", "")  # pid 1 inside is itself
        assert victim.poll() is None  # still alive
    finally:
        victim.kill()


def test_nothing_the_student_starts_outlives_the_sandbox(tmp_path):
    marker = tmp_path / "work" / "late.txt"
    outside = tmp_path / "late-outside.txt"
    out = run(tmp_path, f"""
        import os, time
        if os.fork() == 0:          # a daemon: double fork, new session
            os.setsid()
            if os.fork() == 0:
                time.sleep(2)
                for path in ({str(marker)!r}, {str(outside)!r}):
                    try:
                        open(path, "w").write("still here")
                    except OSError:
                        pass
                os._exit(0)
            os._exit(0)
        print("parent exits")
    """)
    assert out.stdout.strip() == "parent exits"
    time.sleep(3)
    assert not outside.exists()
    assert not marker.exists()  # the daemon was killed with the sandbox (and the tmpfs is gone)


def test_cpu_time_is_limited(tmp_path):
    start = time.monotonic()
    out = run(tmp_path, """
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGXCPU, signal.SIG_IGN)
        while True:
            pass
    """, limits=sandbox.Limits(cpu_seconds=2))
    assert out.returncode != 0 and time.monotonic() - start < 30


def test_memory_is_limited(tmp_path):
    out = run(tmp_path, """
        try:
            block = bytearray(4 * 1024 ** 3)
            print("ALLOCATED")
        except MemoryError:
            print("refused")
    """, limits=sandbox.Limits(memory_bytes=1024 ** 3))
    assert out.stdout.strip() == "refused"


@pytest.mark.skipif(not CAPS.namespaces, reason="the size-limited tmpfs needs namespaces")
def test_the_disk_cannot_be_filled(tmp_path):
    out = run(tmp_path, """
        written = 0
        try:
            for i in range(1000):
                with open(f"fill{i}", "wb") as f:
                    f.write(b"x" * 1024 ** 2)
                written += 1
        except OSError as error:
            print(written, type(error).__name__)
    """, limits=sandbox.Limits(tmpfs_bytes=8 * 1024 ** 2))
    written, error = out.stdout.split()
    assert int(written) <= 8 and error == "OSError"


def test_the_environment_is_clean(tmp_path):
    os.environ["BPCOURSE_SECRET_FOR_TEST"] = "leaked"
    try:
        out = run(tmp_path, """
            import os
            print(sorted(k for k in os.environ if "SECRET" in k or "TOKEN" in k), os.getcwd())
        """)
    finally:
        del os.environ["BPCOURSE_SECRET_FOR_TEST"]
    assert out.stdout.startswith("[] ") and out.stdout.split()[1].endswith("work")


def test_capabilities_are_reported():
    assert "Landlock" in CAPS.describe()
