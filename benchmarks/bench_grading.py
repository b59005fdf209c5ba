"""Grading speed, measured side by side in one run (ratios; nothing is asserted). Everything runs
on temporary copies of the course, with lesson 01's submissions (a realistic mix of right, partly
wrong and unfinished answers).

    .venv/bin/python benchmarks/bench_grading.py [--students 100] [--rounds 4] [--before CHECKOUT]
                                                 [--no-dask] [--no-plain] [--speedup-students 30]

1. **Sandbox start cost**: ``python -I -c 0`` under :mod:`autograder.sandbox` vs bare (median of
   interleaved runs): what isolation adds to each sandboxed process a submission starts.
2. **Hardened grading**: ``bpcourse grade --workers 2`` on N submissions; with ``--before
   CHECKOUT`` (another checkout with its own ``.venv``, e.g. commit 11ec0dc, the design before the
   bubblewrap sandbox) the same workload graded by that checkout's code, in a subprocess; and,
   unless ``--no-dask``, the same N submissions on a Dask ``LocalCluster`` of 2 worker processes
   (``--scheduler``). The N submissions are graded in ``--rounds`` batches of N/rounds, the
   configurations alternating within each round, so a change of the machine's load reaches all of
   them; each total is over N submissions, and the ratios are of the totals (with the median of
   the per-round ratios beside them). Targets: hardened >= 0.8x the throughput before the sandbox
   (issue 9); Dask >= 0.8x local (issue 14).
3. **Dask's per-task overhead**: round trips of a task that carries one submission's bytes, on the
   same cluster; and the projected wall time of 5,000 submissions on 32 workers from the measured
   cost per submission.
4. **Plain nbgrader** ``autograde`` on the same submissions (issue 5's target: hardened >= 0.5x),
   and the speed-up of 2 workers over 1.

The machine may be shared: the load average is printed with the figures.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LESSON = "01-forward-pass"
VARIANTS = [  # a realistic class: most right, some partly wrong, some unfinished
    {},
    {},
    {},
    {"dense_forward": "def dense_forward(x, W, b):\n    return x @ W"},
    {"softmax": "def softmax(s):\n    e = np.exp(s)\n    return e / e.sum(axis=1, keepdims=True)"},
    {"cross_entropy": "", "softmax": ""},
]
REPO = HERE.parent  # the checkout whose code is measured (--checkout changes it)


def use_checkout(checkout):
    """Import ``autograder`` and the tests' helpers from ``checkout`` (this process's code)."""
    global REPO
    REPO = Path(checkout).resolve()
    for path in (str(REPO / "tests"), str(REPO)):
        if path not in sys.path:
            sys.path.insert(0, path)


def make_course(root, students):
    import nbformat
    from notebook_tools import filled_in

    for part in (f"solutions/{LESSON}", f"lessons/{LESSON}"):
        shutil.copytree(REPO / part, root / part)
    (root / "autograder").mkdir()
    shutil.copy(REPO / "autograder" / "nbgrader_config.py", root / "autograder")
    shutil.copy(REPO / "nbgrader_config.py", root)
    for i in range(students):
        folder = root / "autograder" / "submitted" / f"student{i:03d}" / LESSON
        folder.mkdir(parents=True)
        nbformat.write(filled_in(LESSON, VARIANTS[i % len(VARIANTS)]), str(folder / f"{LESSON}.ipynb"))


def timed_grade(root, workers=2, scheduler=None):
    from autograder.grade import grade

    options = {"scheduler": scheduler} if scheduler else {}
    start = time.perf_counter()
    out = grade(LESSON, root=root, workers=workers, log=lambda *a: None, **options)
    seconds = time.perf_counter() - start
    return seconds, [r["status"] for r in out["students"].values()]


def one_run(students, folder):
    """--one-run: grade ``students`` fresh submissions with this process's code; print JSON."""
    root = Path(folder) / "course"
    make_course(root, students)
    seconds, statuses = timed_grade(root)
    print(json.dumps({"seconds": seconds, "graded": statuses.count("graded"),
                      "failed": statuses.count("failed")}))


def timed_before(checkout, students, folder):
    python = Path(checkout) / ".venv" / "bin" / "python"
    done = subprocess.run([str(python), __file__, "--checkout", str(checkout), "--one-run", str(students),
                           str(folder)], capture_output=True, text=True, cwd=checkout)
    if done.returncode != 0:
        raise RuntimeError(f"the run in {checkout} failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    return out["seconds"], ["graded"] * out["graded"] + ["failed"] * out["failed"]


def sandbox_start_cost(repeats=25):
    """Median seconds of ``python -I -c 0``: bare, and in the sandbox (interleaved)."""
    from autograder import sandbox

    bare = [sys.executable, "-I", "-c", "0"]
    boxed = sandbox.command_line(sandbox.Policy(), bare)
    times = {"bare": [], "sandboxed": []}
    for _ in range(repeats):
        for kind, command in (("bare", bare), ("sandboxed", boxed)):
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times[kind].append(time.perf_counter() - start)
    return {kind: statistics.median(values) for kind, values in times.items()}


def dask_overhead(client, payload, tasks=200):
    """Milliseconds per task of a round trip carrying ``payload`` (a submission's bytes): one at a
    time (latency) and all at once (throughput), on an idle cluster."""
    sequential = []
    for _ in range(min(tasks, 50)):
        start = time.perf_counter()
        client.submit(len, payload, pure=False).result()
        sequential.append(time.perf_counter() - start)
    start = time.perf_counter()
    futures = [client.submit(len, payload, pure=False) for _ in range(tasks)]
    client.gather(futures)
    bulk = (time.perf_counter() - start) / tasks
    return statistics.median(sequential) * 1000, bulk * 1000


def timed_plain_nbgrader(root, agg):
    from autograder import gradebook

    gradebook.create_lesson(LESSON, gradebook.db_url(root), root)
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"],
               BPCOURSE_ALLOW_PLAIN_AUTOGRADE="1")  # the course refuses it otherwise (autograder/guard.py)
    if agg:
        env["MPLBACKEND"] = "agg"
    start = time.perf_counter()
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "nbgrader"), "autograde",
                           LESSON, "--force"], cwd=root, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    graded = len(list((root / "autograder" / "autograded").glob(f"*/{LESSON}/{LESSON}.ipynb")))
    (root / "plain-nbgrader.log").write_text(done.stdout + done.stderr)
    return seconds, done.returncode, graded


def done_tail(code, root, lines=3):
    """The exit status and the last lines nbgrader printed (kept in ROOT/plain-nbgrader.log)."""
    text = (root / "plain-nbgrader.log").read_text().strip().splitlines()[-lines:]
    return f"exit status {code}: " + " | ".join(text)


def load():
    return "load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4,
                        help="alternating rounds, each grading STUDENTS/ROUNDS with every configuration")
    parser.add_argument("--before", type=Path, metavar="CHECKOUT",
                        help="also grade with another checkout's code (its own .venv), e.g. 11ec0dc")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster measurements")
    parser.add_argument("--no-plain", action="store_true", help="skip plain nbgrader autograde")
    parser.add_argument("--speedup-students", type=int, default=30, help="0 skips the 1-vs-2 workers run")
    parser.add_argument("--checkout", type=Path, help=argparse.SUPPRESS)  # --before's subprocess
    parser.add_argument("--one-run", nargs=2, metavar=("STUDENTS", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    use_checkout(args.checkout or HERE.parent)
    if args.one_run:
        return one_run(int(args.one_run[0]), args.one_run[1])

    n = args.students
    print(f"{os.cpu_count()} CPUs; {load()}", flush=True)
    costs = sandbox_start_cost()
    bare, boxed = costs["bare"] * 1000, costs["sandboxed"] * 1000
    print(f"sandbox start cost: python -I -c 0 takes {bare:.0f} ms bare, {boxed:.0f} ms sandboxed: "
          f"+{boxed - bare:.0f} ms per sandboxed process (median of 25, interleaved)", flush=True)

    cluster = client = None
    if not args.no_dask:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster, set_as_default=False)
    configurations = {"local": lambda root: timed_grade(root, 2)}
    if args.before:
        configurations["before"] = None
    if cluster is not None:
        configurations["dask"] = lambda root: timed_grade(root, 2, cluster.scheduler_address)
    labels = {"local": "bpcourse grade --workers 2", "before": f"--workers 2 with {args.before}'s code",
              "dask": "bpcourse grade --scheduler (LocalCluster, 2 worker processes)"}
    times = {kind: [] for kind in configurations}
    rounds = max(1, min(args.rounds, n))
    sizes = [n // rounds + (1 if i < n % rounds else 0) for i in range(rounds)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for round_, size in enumerate(sizes):
                order = list(configurations)
                order = order[round_ % len(order):] + order[:round_ % len(order)]
                for kind in order:
                    folder = Path(tmp) / f"{kind}{round_}"
                    folder.mkdir()
                    if kind == "before":
                        seconds, statuses = timed_before(args.before, size, folder)
                    else:
                        make_course(folder / "course", size)
                        seconds, statuses = configurations[kind](folder / "course")
                    times[kind].append(seconds)
                    print(f"round {round_ + 1}/{rounds}, {labels[kind]}: {size} submissions in "
                          f"{seconds:.0f} s "
                          f"({size / seconds * 60:.1f} per minute; {statuses.count('graded')} graded, "
                          f"{statuses.count('failed')} failed; {load()})", flush=True)
                    shutil.rmtree(folder, ignore_errors=True)
            total = {kind: sum(values) for kind, values in times.items()}

            def ratio(kind, reference):  # throughput of ``kind`` / throughput of ``reference``
                per_round = statistics.median(r / k for k, r in zip(times[kind], times[reference]))
                return f"{total[reference] / total[kind]:.2f} (median of the rounds' ratios {per_round:.2f})"

            local = total["local"]
            print(f"{n} submissions with the hardened grade, 2 workers: {local:.0f} s in all "
                  f"({n / local * 60:.1f} per minute)")
            if "before" in total:
                print(f"{n} submissions with {args.before}'s code, 2 workers: {total['before']:.0f} s in all")
                print(f"hardened throughput / before = {ratio('local', 'before')} (target >= 0.8)")
            if "dask" in total:
                dask = total["dask"]
                print(f"{n} submissions on Dask (LocalCluster, 2 workers): {dask:.0f} s in all")
                print(f"Dask throughput / local throughput = {ratio('dask', 'local')} (target >= 0.8)")
                print(f"Dask minus local, per submission: {(dask - local) * 2 / n * 1000:+.0f} ms "
                      "of worker time")
                make_course(Path(tmp) / "one", 1)
                data = next((Path(tmp) / "one").rglob(f"{LESSON}.ipynb")).read_bytes()
                latency, bulk = dask_overhead(client, data)
                print(f"Dask per-task overhead (a task carrying one submission, {len(data) / 1024:.0f} KB): "
                      f"{latency:.1f} ms round trip one at a time, {bulk:.1f} ms per task in bulk")
                cost = dask * 2 / n  # worker-seconds per submission, overhead included
                print(f"measured cost per submission on Dask: {cost:.1f} worker-seconds; projected: "
                      f"5,000 submissions on 32 workers in {5000 * cost / 32 / 60:.0f} min "
                      f"(8 lessons: {8 * 5000 * cost / 32 / 3600:.1f} h), if each worker has a core "
                      "as fast as one of this machine's at this load")
            if not args.no_plain:
                for kind, agg in (("plain", False), ("plain-agg", True)):
                    root = Path(tmp) / kind
                    make_course(root, n)
                    seconds, code, graded = timed_plain_nbgrader(root, agg)
                    print(f"plain nbgrader autograde{', MPLBACKEND=agg' if agg else ''}: {n} submissions in "
                          f"{seconds:.0f} s ({graded} autograded notebooks, exit status {code}; {load()})",
                          flush=True)
                    if code or graded != n:  # no ratio from a run that did not grade everything
                        print(f"plain nbgrader autograde failed; no ratio. Its last words: "
                              f"{done_tail(code, root)}")
                        continue
                    print(f"hardened throughput / {kind} nbgrader throughput = {seconds / local:.2f} "
                          "(target >= 0.5)")
            m = args.speedup_students
            if m:
                speed = {}
                for workers in (1, 2):
                    root = Path(tmp) / f"speedup{workers}"
                    make_course(root, m)
                    speed[workers], _ = timed_grade(root, workers)
                    print(f"--workers {workers}: {m} submissions in {speed[workers]:.0f} s", flush=True)
                print(f"speed-up of 2 workers over 1: {speed[1] / speed[2]:.2f}x on {os.cpu_count()} CPUs")
    finally:
        if client is not None:
            client.close()
            cluster.close()


if __name__ == "__main__":
    main()
