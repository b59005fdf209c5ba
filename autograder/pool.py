"""A small pool of worker processes that knows which job each worker runs.

``concurrent.futures`` cannot tell which job killed a worker, so one crash used to charge a retry
to every pending student. Here each worker takes one job at a time over a pipe; when a worker
process dies, only its own job is retried (in a fresh worker), at most ``retries`` times. Workers
die with the parent (``PR_SET_PDEATHSIG``), so a killed grader leaves none behind.
"""

import ctypes
import multiprocessing
import os
import signal
import sys
import traceback
from multiprocessing.connection import wait

PR_SET_PDEATHSIG = 1


def run(jobs, workers, function, initializer=None, initargs=(), retries=2, log=print):
    """Yield ``(key, outcome)`` for every ``jobs[key]`` (a tuple of arguments): ``outcome`` is
    ``function(key, *args)``, or ``{"error": reason}`` if it raised or its worker died
    ``retries + 1`` times. ``initializer(*initargs)`` runs once in each worker."""
    context = multiprocessing.get_context("spawn")
    pending = list(jobs)
    attempts = dict.fromkeys(jobs, 0)
    idle, busy = [], {}  # busy: connection -> (process, key)
    processes = []

    def start():
        parent, child = context.Pipe()
        process = context.Process(target=_serve, args=(child, os.getpid(), function, initializer,
                                                       initargs), daemon=True)
        process.start()
        child.close()
        processes.append(process)
        idle.append((parent, process))

    try:
        for _ in range(max(1, min(workers, len(jobs)))):
            start()
        while pending or busy:
            while pending and idle:
                connection, process = idle.pop()
                key = pending.pop(0)
                attempts[key] += 1
                connection.send((key, jobs[key]))
                busy[connection] = (process, key)
            ready = set(wait(list(busy) + [process.sentinel for process, _ in busy.values()]))
            for connection, (process, key) in list(busy.items()):
                outcome = None
                if connection in ready:
                    try:
                        outcome = connection.recv()
                    except (EOFError, OSError):
                        outcome = None
                elif process.sentinel not in ready:
                    continue
                del busy[connection]
                if outcome is not None:
                    idle.append((connection, process))
                    yield key, outcome
                    continue
                process.join(timeout=5)  # the worker died during this job: only it is charged
                connection.close()
                if attempts[key] > retries:
                    yield key, {"error": f"grading crashed (its worker process died, exit status "
                                         f"{process.exitcode}) {attempts[key]} times"}
                else:
                    log(f"  the worker grading {key} died (exit status {process.exitcode}); retrying it")
                    pending.insert(0, key)
                start()
    finally:
        for connection, _ in idle:
            try:
                connection.send(None)
                connection.close()
            except OSError:
                pass
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()


def _serve(connection, parent, function, initializer, initargs):
    """A worker: die with the parent, initialise, then run jobs until told to stop."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above
            os._exit(1)
    if initializer is not None:
        initializer(*initargs)
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        key, args = message
        try:
            outcome = function(key, *args)
        except Exception as error:  # noqa: BLE001 - a bug must cost one job, not the batch
            traceback.print_exc()
            outcome = {"error": f"grading failed: {type(error).__name__}: {error}"}
        connection.send(outcome)
