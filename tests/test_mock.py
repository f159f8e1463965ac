"""A workflow script run by hand (`python workflow_scripts/<script>.py TARGET`) gets the
rule's real inputs, params and wildcards, and writes what the workflow wrote."""

import shutil
import subprocess
import sys

import pytest
from conftest import ROOT, local_env

pytestmark = pytest.mark.workflow


def test_a_script_run_by_hand_rewrites_its_target_byte_for_byte(smoke_run, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(smoke_run, run, ignore=shutil.ignore_patterns("report.html"))
    target = "results/robustness/mnist/conv_vi/seed0.csv"
    expected = (run / target).read_bytes()
    (run / target).unlink()
    script = ROOT / "workflow_scripts" / "compute_robustness.py"
    done = subprocess.run(
        [sys.executable, str(script), target, "--configfile", str(ROOT / "configs/smoke.yaml"),
         "--directory", str(run)],
        capture_output=True, text=True, env=local_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert (run / target).read_bytes() == expected
    assert (run / "logs/compute_robustness/mnist/conv_vi/seed0.log").stat().st_size > 0


def test_a_target_no_rule_writes_is_named(tmp_path):
    script = ROOT / "workflow_scripts" / "compute_robustness.py"
    done = subprocess.run(
        [sys.executable, str(script), "results/nothing.csv", "--directory", str(tmp_path)],
        capture_output=True, text=True, env=local_env(),
    )  # fmt: skip
    assert done.returncode != 0
    assert "results/nothing.csv" in done.stderr
