import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# Validate first: a bad config stops here with the schema's message, before any job runs.
validate(config, "../schemas/config.schema.yaml")

PROJECT = Path(workflow.basedir)
PACKAGE = PROJECT / "src" / "bayeslrp"
sys.path.insert(0, str(PROJECT / "src"))
# Jobs import bayeslrp from the source tree in any environment (the project's venv, a
# conda env of envs/, a cluster node): Snakemake passes its environment on to every job.
# (Set here, not required from the user, so not an `envvars:` assertion.)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, [str(PROJECT / "src"), os.getenv("PYTHONPATH")])
    )
)

from bayeslrp.architectures import (
    ARCHITECTURES,
    LEARNABLE_LAYERS,
    output_layer,
    split_model_name,
)
from bayeslrp.names import ATTACKS, DATASETS, INFERENCES, alternatives


wildcard_constraints:
    dataset=alternatives(DATASETS),
    arch=alternatives(ARCHITECTURES),
    model=f"({alternatives(ARCHITECTURES)})_({alternatives(INFERENCES)})",
    seed=r"\d+",
    attack=alternatives(ATTACKS),
    n=r"\d+",
    layer=r"\d+",
    variant="[A-Za-z0-9_]+",


def project_path(path):
    """Config paths are relative to the project, wherever snakemake runs."""
    return str(PROJECT / path)


def package_modules(*names):
    """Package modules a rule depends on, so that editing one reruns exactly that rule.

    `models` re-exports `architectures`, so it brings that module along; every script
    logs and seeds through `runtime`, so it is always included. tests/test_rule_modules.py
    checks each rule's list against its script's imports.
    """
    if "models" in names:
        names = (*names, "architectures")
    names = dict.fromkeys((*names, "runtime"))  # ordered, without duplicates
    return [str(PACKAGE / f"{name}.py") for name in names]


include: "common/paths.smk"
include: "common/settings.smk"
include: "common/runs.smk"
include: "common/checks.smk"


# Last, once every helper it uses is defined.
check_config(config)
