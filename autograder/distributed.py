"""Grading on a Dask cluster: ``bpcourse grade LESSON --scheduler ADDRESS`` (or the environment
variable ``BPCOURSE_DASK_SCHEDULER``). Needs the ``[dask]`` extra (``distributed``).

The main process (:func:`autograder.grade.grade`) still holds the course lock, reads every
submission and commits each result to the gradebook, one student at a time; only the grading of
each submission moves to the cluster. :func:`run` yields ``(student, outcome)`` exactly like
:func:`autograder.pool.run`:

* **What a task carries**: the student id, the lesson's name, the notebook's bytes, its timestamp
  and flags, the time limits, the seed of the hidden cases (drawn here, so a retried task draws
  the same cases), and the course's version (:func:`course_version`). Never a path of this machine.
* **What a worker does**: it grades with *its own* installed course (:data:`autograder.course.REPO`),
  so every worker needs the course installed at the grader's version. Before grading it compares
  its :func:`course_version` with the grader's: any difference (bpcourse's version, the released
  notebook, the answer keys, the probes, the judge) fails that submission with a reason naming what
  differs, never a grade from another version; such an outcome is final (no retry). A worker that
  cannot isolate student code (:func:`autograder.sandbox.capabilities`) refuses likewise unless the
  run was started with ``--insecure``.
* **Where the grading runs**: a worker plugin (:class:`GradingPlugin`, registered for the run)
  gives each Dask worker a scratch folder and keeps grading processes below it: plain child
  processes, each initialised once by :func:`autograder.worker.start` (home folder, sandboxed
  kernelspec, subreaper) exactly as a local pool worker, and running one submission at a time.
  They die with their Dask worker; the plugin's teardown (end of the run, or the worker closing)
  stops them and removes the folder, and a worker's next run removes what a killed one left.
* **Failures**: a grading process or a whole Dask worker lost mid-task is retried by Dask
  (``retries``, and the scheduler's ``allowed-failures`` for dead workers), then recorded as failed
  with the reason. A scheduler lost mid-batch stops the run with :class:`SchedulerLost` (a
  :class:`~autograder.course.CourseError`): every student already committed stays recorded, and the
  same command re-grades everyone (grading is idempotent). The client is closed whatever happens.

Addresses: ``tcp://host:8786``, ``tls://host:8786`` (certificates from Dask's configuration,
``distributed.comm.tls``), or ``gateway://NAME`` for a Dask Gateway cluster (needs
``dask-gateway``; the gateway's address and authentication come from Dask's configuration,
``gateway.address`` and ``gateway.auth``, as JupyterHub deployments set them). See
docs/instructor.md, "Large courses".
"""

import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

from tqdm import tqdm

from autograder.course import REPO, CourseError, release_notebook

PLUGIN = "bpcourse-grading"
STAGE_PREFIX = "bpcourse-dask-"
CONNECT_TIMEOUT = 30     # seconds to reach the scheduler
IN_FLIGHT = 256          # submissions handed to the scheduler at once (at least; see run)
CHILD = "import sys; from autograder.distributed import _child; _child(sys.argv[1:])"


class SchedulerLost(CourseError):
    """The connection to the Dask scheduler was lost during the batch."""


# --- the course's version, computed the same way on both sides ------------------------------------

def course_version(lesson, root=REPO):
    """{what: version}: bpcourse's version and the SHA-256 of every file that decides a grade of
    ``lesson``: the released notebook (from the course at ``root``), the answer keys, the probes
    that call the learner's code and the judge (from the installed packages). Raises CourseError
    if the lesson is unknown or not released at ``root``."""
    import importlib.util

    import bplib
    from autograder import exercises as keys

    if lesson not in keys.LESSONS:
        raise CourseError(f"no lesson {lesson!r} in this installation's answer keys")
    notebook = release_notebook(lesson, root)
    if not notebook.is_file():
        raise CourseError(f"lessons/{lesson} is not released in {root}")
    version = {"bpcourse": bplib.__version__,
               f"lessons/{lesson}/{lesson}.ipynb": _sha256(notebook)}
    modules = {f"autograder.exercises.{keys.LESSONS[lesson]}", "bplib.grading"}
    modules.update(e.probe_name.split(":")[0] for e in keys.exercises(lesson).values() if e.probe_name)
    for module in sorted(modules):
        spec = importlib.util.find_spec(module)
        found = spec is not None and spec.origin and Path(spec.origin).is_file()
        version[module.replace(".", "/") + ".py"] = _sha256(spec.origin) if found else "missing"
    return version


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def version_differences(mine, expected):
    """What differs between this worker's course (``mine``) and the grader's (``expected``)."""
    out = []
    for what in sorted(set(mine) | set(expected)):
        here, there = mine.get(what, "missing"), expected.get(what, "missing")
        if here != there:
            out.append(f"{what}: {here[:12]} on this worker, {there[:12]} on the grader")
    return out


# --- the worker side --------------------------------------------------------------------------------

class GradingProcess:
    """One grading process below a Dask worker: initialised once (:func:`autograder.worker.start`),
    then one submission at a time, like a worker of :mod:`autograder.pool`."""

    def __init__(self, stage, insecure):
        ours, theirs = socket.socketpair()
        self.connection = Connection(ours.detach())
        fd = theirs.detach()
        self.process = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(fd), str(stage), "1" if insecure else "0", str(os.getpid())],
            pass_fds=(fd,), stdin=subprocess.DEVNULL)
        os.close(fd)

    def alive(self):
        return self.process.poll() is None

    def grade(self, student, args):
        """The outcome of ``worker.grade(student, *args)``; raises GradingProcessLost if it died."""
        try:
            self.connection.send((student, args))
            while not self.connection.poll(0.5):
                if not self.alive():
                    break
            else:
                return self.connection.recv()
        except (EOFError, OSError):
            pass
        self.stop()
        raise GradingProcessLost(f"the grading process died (exit status {self.process.returncode})")

    def stop(self, kill=False):
        """Let the process finish (``kill``: at once; its sandboxes die with it)."""
        if kill:
            self.process.kill()
        try:
            self.connection.send(None)
        except OSError:
            pass
        self.connection.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class GradingProcessLost(RuntimeError):
    """Raised in a task whose grading process died: Dask retries the task."""


def _child(argv):
    """The grading process: ``worker.start`` once, then serve submissions (:func:`pool._serve`). It
    dies with the Dask worker (``PR_SET_PDEATHSIG`` in ``_serve``, and a watch on its parent)."""
    from autograder import pool, worker

    fd, stage, insecure, parent = int(argv[0]), argv[1], argv[2] == "1", int(argv[3])
    os.set_inheritable(fd, False)

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        worker.kill_leftovers()
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    pool._serve(Connection(fd), parent, worker.grade, worker.start, (stage, insecure))


try:
    from distributed.diagnostics.plugin import WorkerPlugin
except ImportError:  # without the [dask] extra: local grading only
    WorkerPlugin = object


class GradingPlugin(WorkerPlugin):
    """On each Dask worker for one run: a scratch folder and the grading processes below it."""

    def __init__(self, insecure=False):
        self.insecure = insecure

    def setup(self, worker=None):
        remove_stale_stages()
        self.stage = Path(tempfile.mkdtemp(prefix=f"{STAGE_PREFIX}{os.getpid()}-"))
        self.idle, self.busy = [], set()
        self.lock = threading.Lock()

    def teardown(self, worker=None):
        if not hasattr(self, "stage"):  # setup did not run
            return
        with self.lock:
            idle, busy, self.idle = self.idle, list(self.busy), []
        for process in idle:
            process.stop()
        for process in busy:  # the run is over (or the worker closing): its result has no taker
            process.stop(kill=True)
        shutil.rmtree(self.stage, ignore_errors=True)

    def grade(self, student, args):
        with self.lock:
            while self.idle and not self.idle[-1].alive():
                self.idle.pop().stop()
            process = self.idle.pop() if self.idle else None
        if process is None:
            process = GradingProcess(self.stage, self.insecure)
        with self.lock:
            self.busy.add(process)
        try:
            outcome = process.grade(student, args)
        finally:
            with self.lock:
                self.busy.discard(process)
        with self.lock:
            self.idle.append(process)
        return outcome


def remove_stale_stages():
    """Remove the scratch folders of Dask workers of this user that are gone (killed)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{STAGE_PREFIX}*"):
        try:
            pid = int(folder.name[len(STAGE_PREFIX):].split("-")[0])
            info = folder.lstat()
        except (ValueError, OSError):
            continue
        if info.st_uid == os.getuid() and folder.is_dir() and not folder.is_symlink() \
                and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


def grade_on_worker(plugin, student, lesson, notebook_name, notebook, timestamp, flags, timeouts, seed,
                    expected, insecure):
    """The task: check this worker's course and isolation, then grade with this worker's course.
    Returns the outcome of :func:`autograder.worker.grade` plus ``"worker"``: {"address",
    "isolation", "seconds"} (removed by the client before the outcome is recorded)."""
    from distributed import get_worker

    from autograder import sandbox

    here = get_worker()
    started = time.perf_counter()
    caps = sandbox.capabilities()
    about = {"address": here.address, "isolation": caps.describe() if caps.isolated else
             "NONE (--insecure)" if insecure else f"refused: {caps.describe()}"}
    try:
        differs = version_differences(course_version(lesson), expected)
    except CourseError as error:
        differs = [str(error)]
    if differs:
        return {"error": f"the Dask worker {here.address} has another version of the course "
                         f"({'; '.join(differs)}): install the grader's version on every worker and "
                         "grade again", "worker": about}
    if not caps.isolated and not insecure:
        return {"error": f"the Dask worker {here.address} cannot isolate student code "
                         f"({caps.describe()}): fix it and grade again (--insecure grades anyway)",
                "worker": about}
    grading = here.plugins.get(plugin)
    if grading is None:
        raise RuntimeError(f"the worker plugin {plugin} is not installed on {here.address}")
    outcome = grading.grade(student, (lesson, str(REPO), notebook_name, notebook, timestamp, flags,
                                      timeouts, seed))
    return {**outcome, "worker": {**about, "seconds": time.perf_counter() - started}}


# --- the client side --------------------------------------------------------------------------------

def connect(address, timeout=None):
    """(client, close): a Dask client of the scheduler at ``address`` and how to let it go."""
    timeout = timeout or CONNECT_TIMEOUT
    try:
        from distributed import Client
    except ImportError:
        raise CourseError("grading on Dask needs the [dask] extra: pip install 'bpcourse[dask]'") from None
    if address.startswith("gateway://"):
        try:
            from dask_gateway import Gateway
        except ImportError:
            raise CourseError("a Dask Gateway cluster needs dask-gateway: pip install dask-gateway") from None
        name = address[len("gateway://"):].rstrip("/").rsplit("/", 1)[-1]
        try:
            cluster = Gateway().connect(name)
            client = cluster.get_client(set_as_default=False)
        except Exception as error:  # noqa: BLE001 - any failure to reach the gateway, said plainly
            raise CourseError(f"cannot reach the Dask Gateway cluster {name!r}: "
                              f"{type(error).__name__}: {error}") from None

        def close():
            client.close(timeout=10)
            cluster.close(shutdown=False)  # the cluster is the instructor's: it keeps running
        return client, close
    try:
        client = Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as error:
        raise CourseError(f"cannot reach the Dask scheduler at {address}: {type(error).__name__}: "
                          f"{error}") from None
    return client, lambda: client.close(timeout=10)


class Batch:
    """The iterator :func:`run` returns: ``(student, outcome)`` in completion order. After the
    batch, ``isolation`` describes the isolation of the workers that graded, ``seconds`` the time
    they spent per submission (from the task's start to its result, on the worker)."""

    def __init__(self, jobs, address, log, insecure, retries):
        self.jobs, self.address, self.log = jobs, address, log
        self.insecure, self.retries = insecure, retries
        self.isolations, self.seconds = {}, []
        self._iterator = self._run()

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._iterator)

    def close(self):
        self._iterator.close()

    @property
    def isolation(self):
        if not self.isolations:
            return "no submission reached a Dask worker"
        kinds = {}
        for address, kind in self.isolations.items():
            kinds.setdefault(kind, []).append(address)
        return "; ".join(f"{kind} (Dask, {len(addresses)} worker(s))"
                         for kind, addresses in sorted(kinds.items()))

    def _run(self):
        if not self.jobs:
            return
        from distributed import as_completed

        lesson, root = next(iter(self.jobs.values()))[:2]
        expected = course_version(lesson, root)
        client, close = connect(self.address)
        plugin = f"{PLUGIN}-{secrets.token_hex(4)}"
        pending = list(self.jobs)
        futures, done = {}, 0
        try:
            workers = client.scheduler_info(n_workers=-1)["workers"]
            threads = sum(w.get("nthreads", 1) for w in workers.values())
            self.log(f"connected to the Dask scheduler at {self.address}: {len(workers)} worker(s), "
                     f"{threads} thread(s)" + ("" if workers else "; submissions wait for workers to join"))
            client.register_plugin(GradingPlugin(self.insecure), name=plugin)
            token = secrets.token_hex(4)
            seeds = {student: secrets.randbits(32) for student in self.jobs}
            window = max(IN_FLIGHT, 4 * threads)

            numbers = {student: number for number, student in enumerate(self.jobs)}

            def submit(student):  # the task's name: the lesson and a number, not the student id
                lesson, _, notebook_name, notebook, timestamp, flags, timeouts = self.jobs[student]
                key = f"bpcourse-grade-{lesson}-{token}-{numbers[student]}"
                future = client.submit(grade_on_worker, plugin, student, lesson, notebook_name, notebook,
                                       timestamp, list(flags), timeouts, seeds[student], expected,
                                       self.insecure, key=key, pure=False, retries=self.retries)
                futures[future] = student
                return future

            completed = as_completed([submit(pending.pop(0)) for _ in range(min(window, len(pending)))],
                                     loop=client.loop)
            with Progress(total=len(self.jobs), unit="submission", desc=f"grading {lesson} on Dask",
                          file=sys.stderr, disable=None, leave=False) as bar:
                for future in completed:
                    student = futures.pop(future)
                    outcome = self._outcome(future, client, done)
                    future.release()
                    if pending:
                        completed.add(submit(pending.pop(0)))
                    done += 1
                    bar.update()
                    yield student, outcome
        finally:
            if client.status == "running":  # else the scheduler is gone, and the tasks with it
                try:
                    if futures:
                        client.cancel(list(futures))
                    client.unregister_worker_plugin(plugin)  # stops the grading processes
                except Exception:  # noqa: BLE001 - best effort: a worker's teardown runs when it closes too
                    pass
            close()

    def _outcome(self, future, client, done):
        """The plain outcome of a finished task; raises SchedulerLost if the scheduler went away."""
        from distributed.client import FutureCancelledError

        if future.status == "finished":
            try:
                outcome = future.result(timeout=60)
            except (FutureCancelledError, OSError, TimeoutError):
                outcome = None
            if outcome is not None:
                about = outcome.pop("worker", None) or {}
                if about:
                    self.isolations[about["address"]] = about["isolation"]
                if "seconds" in about:
                    self.seconds.append(about["seconds"])
                return outcome
        if future.status == "error":
            error = future.exception()
            if type(error).__name__ == "KilledWorker":
                return {"error": f"grading crashed: every Dask worker that ran it died ({error})"}
            return {"error": f"grading failed on the Dask cluster ({self.retries + 1} attempts): "
                             f"{type(error).__name__}: {error}"}
        raise SchedulerLost(
            f"lost the Dask scheduler at {self.address} after {done} of {len(self.jobs)} submission(s): "
            "the students graded so far are recorded; run the same command again to grade the batch "
            "(a re-grade gives the same result and keeps manual grades)")


class Progress(tqdm):
    """tqdm's bar without its monitor thread (which a disabled bar starts and never stops)."""
    monitor_interval = 0


def run(jobs, scheduler, log=print, insecure=False, retries=2):
    """Grade ``jobs`` (``{student: (lesson, root, notebook_name, notebook, timestamp, flags,
    timeouts)}``, as :func:`autograder.grade.grade` builds them) on the Dask cluster at
    ``scheduler``; a :class:`Batch` yielding ``(student, outcome)`` in completion order."""
    return Batch(jobs, scheduler, log, insecure, retries)
