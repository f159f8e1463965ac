"""Shared fixtures: the project root, and one real smoke run of the workflow per session."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]


# The SLURM executor plugin runs `scontrol show config` whenever snakemake starts (to word
# its help text); with SLURM's tools installed but no controller answering (after the
# cluster test stops its own) that waits 10 s per call. Local runs put a `scontrol` that
# fails at once first on the PATH, as `make run` does.
NO_SCONTROL = ROOT / "profiles" / "default" / "bin"


def snakemake(
    workdir: Path, *args: str, config: Path = ROOT / "configs" / "smoke.yaml", slurm=False
):
    """Run snakemake on this project's Snakefile in `workdir`; return the completed process.
    `slurm`: keep SLURM's real `scontrol` (the cluster test)."""
    cmd = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(config), *args]  # fmt: skip
    env = {**os.environ, "PYTHONHASHSEED": "0"} if slurm else local_env()
    return subprocess.run(cmd, capture_output=True, text=True, env=env)


def run_fresh(code: str) -> str:
    """stdout of `code` (dedented) run in a fresh interpreter: which modules are loaded,
    and what importing them set, is process state."""
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                            capture_output=True, text=True, check=True)  # fmt: skip
    return result.stdout.strip()


def local_env() -> dict:
    """The environment of a local (not SLURM) snakemake process: see NO_SCONTROL."""
    path = f"{NO_SCONTROL}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PYTHONHASHSEED": "0", "PATH": path}


@pytest.fixture
def float64():
    """Small float64 modules, so comparisons test the algorithm, not rounding."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory) -> Path:
    """Run configs/smoke.yaml end to end, with the report, in a fresh directory."""
    workdir = tmp_path_factory.mktemp("smoke")
    run = snakemake(workdir, "--cores", "2")
    assert run.returncode == 0, run.stderr[-4000:]
    report = snakemake(workdir, "--report", "results/report.html")
    assert report.returncode == 0, report.stderr[-4000:]
    return workdir


@pytest.fixture(scope="session")
def tiny_config(tmp_path_factory) -> Path:
    """The smoke config cut to one dataset and the fc models, for tests that run it often."""
    config = yaml.safe_load((ROOT / "configs" / "smoke.yaml").read_text())
    config.update(datasets=["fashion_mnist"], models=["fc_det", "fc_hmc"])
    config["attacks"]["names"] = ["fgsm"]
    config["explainers"].update(layers="output", names=["lrp"])
    path = tmp_path_factory.mktemp("config") / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
