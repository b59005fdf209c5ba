"""A throwaway PostgreSQL server for the tests: ``initdb`` and ``pg_ctl`` from Debian's
``postgresql`` package in a temp directory, listening on 127.0.0.1 only (no Unix socket), with
password authentication -- exactly the set-up docs/instructor.md describes for a gradebook.

As root (CI, containers) the server runs as the ``postgres`` user the package creates, since
PostgreSQL refuses to run as root.
"""

import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def binaries():
    """The folder of initdb and pg_ctl (newest version installed), or None."""
    for name in ("initdb", "pg_ctl"):
        found = shutil.which(name)
        if found:
            return str(Path(os.path.realpath(found)).parent)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return str(Path(candidates[-1]).parent) if candidates else None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``Server().start()``; ``url(database)``; ``create_database(name)``; ``stop()``."""

    def __init__(self):
        self.bin = binaries()
        self.password = secrets.token_hex(12)
        self.user = "bpcourse"
        self.port = _free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="bpcourse-pg-"))
        self.data = self.folder / "data"
        self.run_as = None
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            self.run_as = (entry.pw_uid, entry.pw_gid)
            os.chown(self.folder, *self.run_as)

    def _run(self, *command, check=True):
        prefix = []
        if self.run_as:
            uid, gid = self.run_as
            prefix = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--"]
        return subprocess.run(prefix + list(command), check=check, capture_output=True, text=True,
                              cwd=self.folder)

    def start(self):
        pwfile = self.folder / "pw"
        pwfile.write_text(self.password + "\n")
        if self.run_as:
            os.chown(pwfile, *self.run_as)
        self._run(f"{self.bin}/initdb", "-D", str(self.data), "-U", self.user, "--auth=scram-sha-256",
                  f"--pwfile={pwfile}", "--encoding=UTF8", "--no-instructions")
        pwfile.unlink()
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='' "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(f"{self.bin}/pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.folder / "server.log"), "-w", "-t", "60", "start")
        return self

    def url(self, database="postgres"):
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name):
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self):
        self._run(f"{self.bin}/pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        time.sleep(0.2)
        shutil.rmtree(self.folder, ignore_errors=True)
