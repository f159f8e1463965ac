"""How long `snakemake -n` takes on the paper config (every job) when everything is up to
date, against Snakemake's own start-up (`snakemake --version`) measured in the same run.

Every call runs as `make run` does, with SLURM's `scontrol` shadowed; the start-up is also
measured without that, for comparison. Up to date is reached in a scratch directory by
creating every output of the paper's DAG as an empty file and then `snakemake --touch`,
which touches them in DAG order without running anything. Goal: under 3 s.

    .venv/bin/python benchmarks/bench_dag.py [--config configs/paper.yaml] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# As `make run` does: SLURM's `scontrol` fails at once (profiles/default/bin/scontrol).
LOCAL = {**os.environ, "PATH": f"{ROOT / 'profiles/default/bin'}{os.pathsep}{os.environ['PATH']}"}


def snakemake(workdir: Path, config: Path, *args: str, env=LOCAL) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory",
           str(workdir), "--configfile", str(config), *args]  # fmt: skip
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    return seconds, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "configs/paper.yaml")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        seconds, out = snakemake(workdir, args.config, "-n")
        jobs = re.search(r"^total\s+(\d+)", out, flags=re.MULTILINE)
        print(f"full DAG, nothing built: {seconds:.2f} s, {jobs.group(1) if jobs else '?'} jobs")
        outputs = re.findall(r"^    output: (.*)$", out, flags=re.MULTILINE)
        for line in outputs:
            for path in line.split(", "):
                (workdir / path).parent.mkdir(parents=True, exist_ok=True)
                (workdir / path).touch()
        touched, _ = snakemake(workdir, args.config, "--touch", "--cores", "1")
        print(f"--touch (mark all built): {touched:.2f} s")
        startup = min(snakemake(workdir, args.config, "--version")[0] for _ in range(args.repeat))
        # Without the shim: where SLURM's tools are installed and no controller answers,
        # the SLURM plugin's `scontrol show config` waits ~10 s at every start.
        plain = snakemake(workdir, args.config, "--version", env=dict(os.environ))[0]
        print(f"snakemake --version with the PATH's own scontrol: {plain:.2f} s")
        dry = []
        for _ in range(args.repeat):
            seconds, out = snakemake(workdir, args.config, "-n")
            dry.append(seconds)
        up_to_date = "Nothing to be done" in out
        best = min(dry)
        print(f"snakemake --version (start-up): {startup:.2f} s")
        print(f"snakemake -n, everything up to date ({up_to_date}): {best:.2f} s "
              f"(best of {args.repeat}; goal < 3 s: {'met' if best < 3 else 'NOT met'}); "
              f"{best / startup:.1f}x start-up")  # fmt: skip


if __name__ == "__main__":
    main()
