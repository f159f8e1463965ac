"""What Snakemake's scheduler costs in CPU while local jobs run, with Snakemake's own
re-evaluation timers and with bayeslrp.scheduling's (at most one pending), on a synthetic
DAG shaped like a study's middle: many jobs waiting for the cores, each with many inputs.

Every job sleeps, so the CPU the run uses is Snakemake's (the shell and `sleep` are a few
ms a job). Goal: the workaround's scheduler CPU at most half of Snakemake's own.

    .venv/bin/python benchmarks/bench_scheduler.py [--jobs 160] [--seconds 0.5] [--cores 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SNAKEFILE = """
import os
from snakemake.scheduling.job_scheduler import JobScheduler
from bayeslrp.scheduling import coalesce_reevaluations

if os.environ.get("COALESCE") == "1":
    coalesce_reevaluations(JobScheduler)

rule all:
    input: expand("out/{{i}}.txt", i=range({jobs}))

rule shared:
    output: "in/shared{{j}}.txt"
    shell: "touch {{output}}"

rule own:
    output: "in/{{i}}_{{k}}.txt"
    shell: "touch {{output}}"

rule work:
    input: expand("in/shared{{j}}.txt", j=range(20)), expand("in/{{{{i}}}}_{{k}}.txt", k=range(5))
    output: "out/{{i}}.txt"
    params: label=lambda w: f"job {{w.i}}"
    shell: "sleep {seconds}; touch {{output}}"
"""


def run(workdir: Path, cores: int, coalesce: bool, targets: list[str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of Snakemake and its jobs) of one run."""
    env = {**os.environ, "COALESCE": "1" if coalesce else "0",
           "PATH": f"{ROOT / 'profiles/default/bin'}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "snakemake", *targets, "-c", str(cores), "--quiet", "all"]
    done = subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=160)
    parser.add_argument("--seconds", type=float, default=0.5)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "Snakefile").write_text(SNAKEFILE.format(jobs=args.jobs, seconds=args.seconds))
        inputs = [f"in/shared{j}.txt" for j in range(20)]
        inputs += [f"in/{i}_{k}.txt" for i in range(args.jobs) for k in range(5)]
        run(workdir, args.cores, True, inputs)  # the inputs, once, outside the timing
        for coalesce in (False, True):
            for path in (workdir / "out").glob("*"):
                path.unlink()
            results[coalesce] = run(workdir, args.cores, coalesce, [])
    floor = args.jobs * args.seconds / args.cores
    for coalesce, label in ((False, "Snakemake's timers"), (True, "one pending (bayeslrp)")):
        wall, cpu = results[coalesce]
        print(f"{label:24s} wall {wall:6.1f} s (sleep floor {floor:.1f} s), CPU {cpu:6.1f} s "
              f"({1000 * cpu / args.jobs:.0f} ms a job)")  # fmt: skip
    ratio = results[True][1] / results[False][1]
    print(f"scheduler CPU, one pending / Snakemake's: {ratio:.2f} (goal <= 0.5: "
          f"{'met' if ratio <= 0.5 else 'not met'})")  # fmt: skip


if __name__ == "__main__":
    main()
