"""The workflow submitted to a real single-node SLURM cluster through profiles/slurm."""

import os
import re
import shutil
import subprocess

import pandas as pd
import pytest
import yaml
from conftest import ROOT, snakemake

pytestmark = pytest.mark.workflow
CLUSTER = ROOT / "tests" / "slurm" / "cluster.sh"


@pytest.fixture(scope="module")
def slurm():
    """Start munged, slurmctld and slurmd on localhost; stop them by their pids afterwards."""
    missing = [tool for tool in ("slurmctld", "slurmd", "munged") if not shutil.which(tool)
               and not os.path.exists(f"/usr/sbin/{tool}")]  # fmt: skip
    if missing or os.geteuid() != 0:
        reason = f"SLURM cannot be started here (missing {missing}, or not root)"
        if os.environ.get("BAYESLRP_REQUIRE_SLURM"):  # set by .ci/run: CI must not skip
            pytest.fail(reason)
        pytest.skip(reason + "; `tests/slurm/cluster.sh install` installs it")
    started = subprocess.run([str(CLUSTER), "start"], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    yield
    subprocess.run([str(CLUSTER), "stop"], check=False)


@pytest.fixture
def det_only_config(tmp_path, tiny_config):
    """The tiny config with fc_det alone: every kind of job still goes through SLURM, and
    each SLURM job costs seconds of submission and polling (the HMC chains' jobs are
    ordinary rules; the other workflow tests run them)."""
    config = yaml.safe_load(tiny_config.read_text())
    config["models"] = ["fc_det"]
    path = tmp_path / "det_only.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_tiny_run_goes_through_slurm(tmp_path, slurm, det_only_config):
    run = snakemake(
        tmp_path, "--profile", str(ROOT / "profiles" / "slurm"), "--jobs", "2",
        "--default-resources", "slurm_partition=debug", "mem_mb=2000", "runtime=30",
        "cpus_per_task=1", config=det_only_config, slurm=True,
    )  # fmt: skip
    assert run.returncode == 0, (run.stdout + run.stderr)[-5000:]
    robustness = pd.read_csv(tmp_path / "results/tables/robustness.csv")
    # fc_det n=1; metrics top-10, top-30 overlap, Spearman and Kendall; 20 points
    assert len(robustness) == 4 * 20
    # Every heavy job went to SLURM: the main log names each submission and its job id.
    log = next((tmp_path / ".snakemake" / "log").glob("*.snakemake.log")).read_text()
    submitted = re.findall(r"submitted with SLURM jobid (\d+) \(log: .*?/rule_(\w+)/", log)
    rules = {rule for _, rule in submitted}
    assert {"download_dataset", "fit_posterior", "generate_attack", "explain_clean",
            "compute_relevance", "compute_robustness"} <= rules, rules  # fmt: skip
    # Tiny rules ran on the submitting node (localrules), not as cluster jobs.
    assert not rules & {"build_tables", "select_test_points", "plot_robustness"}
    # The controller really ran those ids (finished jobs stay listed for MinJobAge).
    listed = subprocess.run(["squeue", "-h", "-t", "all", "-o", "%i"], capture_output=True,
                            text=True, check=True).stdout.split()  # fmt: skip
    assert {job for job, _ in submitted} <= set(listed)
