"""Killed runs resume to identical tables; reruns are byte-identical; writes are atomic."""

import os
import re
import signal
import subprocess
import time

import pytest
import torch
from conftest import ROOT, SNAKEMAKE, local_env

from bayeslrp.io import atomic_path, save_tensors

pytestmark = pytest.mark.workflow
TABLES = ["robustness.csv", "accuracy.csv", "attacks.csv", "posterior.csv", "claims.csv",
          "robustness_summary.csv"]  # fmt: skip
WALL_TIME = re.compile(rb"^.*,seconds,.*\n", flags=re.MULTILINE)  # posterior.csv timings


def start(workdir, config, *args):
    cmd = [*SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(config), "--cores", "2", *args]  # fmt: skip
    log = open(workdir / "snakemake.out", "ab")  # a file: a full pipe would stall the run
    # Own process group, so SIGKILL reaches snakemake and every job it started.
    return subprocess.Popen(
        cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        env=local_env(),
    )  # fmt: skip


def run(workdir, config, *args):
    process = start(workdir, config, *args)
    process.wait(timeout=900)
    assert process.returncode == 0, (workdir / "snakemake.out").read_text()[-3000:]


def tables(workdir):
    """The tables' bytes, less posterior.csv's wall-time rows (the only thing that may vary)."""
    return {
        name: WALL_TIME.sub(b"", (workdir / "results/tables" / name).read_bytes())
        for name in TABLES
    }


@pytest.fixture(scope="module")
def reference(tmp_path_factory, tiny_config):
    workdir = tmp_path_factory.mktemp("reference")
    run(workdir, tiny_config)
    return tables(workdir)


@pytest.mark.parametrize(
    "kill_when",
    [
        "results/attacks/fashion_mnist/fc_hmc/seed0/fgsm.pt",
        "results/robustness/fashion_mnist/fc_det/seed0.csv",
    ],
)
def test_killed_run_resumes_to_identical_tables(tmp_path, tiny_config, reference, kill_when):
    """A fresh run in a new directory, killed and resumed, gives the reference run's tables
    byte for byte: this is also the test that the same config and seed give the same
    tables (every artifact here is computed anew, before or after the kill; a separate
    uninterrupted second run would cost CI a whole run and test nothing more)."""
    process = start(tmp_path, tiny_config)
    deadline = time.monotonic() + 600
    while not (tmp_path / kill_when).exists():
        assert process.poll() is None, "the run ended before the kill point"
        assert time.monotonic() < deadline, f"{kill_when} never appeared"
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert not (tmp_path / "results/tables/robustness.csv").exists()
    run(tmp_path, tiny_config, "--unlock")
    run(tmp_path, tiny_config, "--rerun-incomplete")
    assert tables(tmp_path) == reference
    leftovers = [p for p in (tmp_path / "results").rglob("*.tmp")]
    assert leftovers == [], leftovers


def test_a_failing_writer_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out.pt"
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / ".out.pt.123.tmp").write_bytes(b"left by a killed job")
    save_tensors({"x": torch.ones(2)}, target)
    assert [p.name for p in tmp_path.iterdir()] == ["out.pt"]
    assert torch.load(target, weights_only=True)["x"].sum() == 2


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_artifacts_get_the_mode_the_umask_allows(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        save_tensors({"x": torch.zeros(1)}, tmp_path / "a.pt")
    finally:
        os.umask(previous)
    assert (tmp_path / "a.pt").stat().st_mode & 0o777 == mode
