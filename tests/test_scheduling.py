"""The scheduler workaround (bayeslrp.scheduling) against Snakemake's own re-evaluation:
Snakemake arms one timer per call, ours one per scheduler at a time."""

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from snakemake.scheduling.job_scheduler import JobScheduler

from bayeslrp.scheduling import REEVALUATION, coalesce_reevaluations

ROOT = Path(__file__).resolve().parents[1]
# Snakemake's own method, even where this process has loaded the workflow (which patches it).
SNAKEMAKES = getattr(getattr(JobScheduler, REEVALUATION), "original",
                     getattr(JobScheduler, REEVALUATION))  # fmt: skip


def scheduler_class():
    """A scheduler class with Snakemake's re-evaluation, unpatched."""
    return type("Scheduler", (), {REEVALUATION: SNAKEMAKES})


def scheduler(cls):
    """An instance with only what the re-evaluation touches (`_open_jobs`, as Snakemake's)."""
    instance = cls()
    instance._open_jobs = threading.Semaphore(0)
    return instance


def releases(instance, wait=0.5):
    """How many re-evaluations fired (each releases `_open_jobs` once)."""
    count = 0
    while instance._open_jobs.acquire(timeout=wait):
        count += 1
    return count


def test_snakemake_arms_a_timer_per_call():
    """The behaviour worked around: 20 calls, 20 rounds. If a Snakemake release fixes it,
    this fails, and the workaround can go."""
    stock = scheduler(scheduler_class())
    for _ in range(20):
        getattr(stock, REEVALUATION)(0.01)
    assert releases(stock) == 20


def test_coalesced_reevaluation_fires_once_and_rearms():
    cls = scheduler_class()
    assert coalesce_reevaluations(cls)
    first, second = scheduler(cls), scheduler(cls)
    for _ in range(20):
        getattr(first, REEVALUATION)(0.01)
    getattr(second, REEVALUATION)(0.01)  # pending per scheduler, not per class
    assert releases(first) == 1
    assert releases(second) == 1
    getattr(first, REEVALUATION)(0.01)  # once fired, the next call arms a new one
    assert releases(first) == 1


def test_pending_reevaluation_does_not_hold_up_exit():
    cls = scheduler_class()
    coalesce_reevaluations(cls)
    before = set(threading.enumerate())
    getattr(scheduler(cls), REEVALUATION)(60)
    timers = [t for t in threading.enumerate() if t not in before]
    assert len(timers) == 1 and timers[0].daemon
    timers[0].cancel()


@pytest.mark.parametrize("has_method", [True, False], ids=["snakemake", "other"])
def test_patches_once_and_only_what_has_the_method(has_method):
    cls = scheduler_class() if has_method else type("Other", (), {})
    assert coalesce_reevaluations(cls) is has_method
    assert coalesce_reevaluations(cls) is False


def test_workflow_applies_it():
    """Loading the workflow (rules/common.smk) patches Snakemake's scheduler; in a
    subprocess, so that this one keeps Snakemake's."""
    script = f"""
from pathlib import Path
from snakemake.api import SnakemakeApi
from snakemake.settings.types import ConfigSettings, ResourceSettings
from snakemake.scheduling.job_scheduler import JobScheduler
root = Path({str(ROOT)!r})
with SnakemakeApi() as api:
    api.workflow(resource_settings=ResourceSettings(), snakefile=root / "Snakefile",
                 config_settings=ConfigSettings(configfiles=[root / "configs/smoke.yaml"]),
                 workdir=root).dag()
print(getattr(getattr(JobScheduler, {REEVALUATION!r}), "coalesced", False))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
