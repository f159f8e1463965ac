"""Run a workflow script by hand, outside Snakemake (pypsa-eur's `mock_snakemake` idea):

    python workflow_scripts/generate_attack.py results/attacks/mnist/fc_det/seed0/fgsm_samples1.pt \
        [--configfile configs/full.yaml] [--directory <run directory>]

builds the workflow's DAG for the target, takes the job that writes it, and hands the
script the `snakemake` object Snakemake would have injected: the rule's real inputs,
outputs, params, wildcards, log, threads and config. The script then runs as usual (in a
debugger, under a profiler), writing the target. Its inputs must exist already.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def job_for(target: str, configfiles: list[str] | None = None):
    """The `snakemake` object of the job that writes `target` (relative to the cwd)."""
    from snakemake.api import SnakemakeApi
    from snakemake.iocontainers import Snakemake
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        DeploymentSettings,
        OutputSettings,
        ResourceSettings,
        StorageSettings,
        WorkflowSettings,
    )

    with SnakemakeApi(OutputSettings()) as api:
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            config_settings=ConfigSettings(configfiles=[Path(f) for f in configfiles or []]),
            storage_settings=StorageSettings(),
            workflow_settings=WorkflowSettings(),
            deployment_settings=DeploymentSettings(),
            snakefile=ROOT / "Snakefile",
            workdir=Path.cwd(),
        )
        workflow_api.dag(DAGSettings(targets={target}, forceall=True))
        # Snakemake has no public call that returns a job; these two are what its own
        # commands run before they look at the DAG.
        workflow = workflow_api._workflow
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True,
                              nolock=True)  # fmt: skip
        workflow._build_dag()
        jobs = [job for job in workflow.dag.jobs if target in map(str, job.output)]
        if not jobs:
            raise ValueError(f"no job of the workflow writes {target}")
        job = jobs[0]
        for path in [*job.output, *job.log]:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return Snakemake(job.input, job.output, job.params, job.wildcards, job.threads,
                         job.resources, job.log, workflow.config, job.rule.name, None)  # fmt: skip


def job_from_argv(argv: list[str]):
    """`job_for` from a script's command line (see the module doc)."""
    parser = argparse.ArgumentParser(description="Run this workflow script by hand.")
    parser.add_argument("target", help="an output of the rule, e.g. results/.../seed0.csv")
    parser.add_argument("--configfile", action="append", help="config files, in order")
    parser.add_argument("--directory", help="the run directory (default: here)")
    args = parser.parse_args(argv)
    if args.directory:
        os.chdir(args.directory)
    configfiles = [str(Path(f).resolve()) for f in args.configfile or []]
    return job_for(args.target, configfiles)
