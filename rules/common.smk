import ast
import functools
import os
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# The LRP section of configs before the explainer registry: say where its keys went.
if "lrp" in config:
    raise ValueError(
        "the config's `lrp` section was split: lrp.epsilon and lrp.backend are now "
        "explainers.lrp.epsilon and explainers.lrp.backend; lrp.layers, lrp.target, "
        "lrp.inner_start and lrp.chunk are explainers.layers/target/inner_start/chunk; "
        "lrp.topk and lrp.topk_mode are metrics.topk_overlap.k and "
        "metrics.topk_overlap.mode"
    )
# The top-k keys before the metric registry.
if {"topk", "topk_mode"} & set(config.get("metrics", {})):
    raise ValueError(
        "metrics.topk and metrics.topk_mode moved into the top-k metric's block: "
        "metrics.topk_overlap.k and metrics.topk_overlap.mode"
    )
# A sensitivity variant is this workflow loaded again as a module named variant_<name>
# (rules/sensitivity.smk): its tables stay out of the report, whose view of the variants is
# the sensitivity table (theirs are on disk under results/sensitivity/<name>/).
if str(__name__).startswith("variant_"):

    def report(path, *args, **kwargs):
        return path


# Validate first: a bad config stops here with the schema's message, before any job runs.
validate(config, "../schemas/config.schema.yaml")

PROJECT = Path(workflow.basedir)
PACKAGE = PROJECT / "src" / "bayeslrp"
sys.path.insert(0, str(PROJECT / "src"))
# Jobs import bayeslrp from the source tree in any environment (the project's venv, a
# conda env of envs/, a cluster node): Snakemake passes its environment on to every job.
# (Set here, not required from the user, so not an `envvars:` assertion.)
# (A sensitivity variant loads this file again as a module: the path is added once.)
if str(PROJECT / "src") not in os.getenv("PYTHONPATH", "").split(os.pathsep):
    os.environ.update(
        PYTHONPATH=os.pathsep.join(
            filter(None, [str(PROJECT / "src"), os.getenv("PYTHONPATH")])
        )
    )

from snakemake.scheduling.job_scheduler import JobScheduler

from bayeslrp.scheduling import coalesce_reevaluations

# Snakemake's job-rate limiter re-arms a scheduling round every second per finished job
# (bayeslrp/scheduling.py): at most one pending, or the scheduler takes a core.
coalesce_reevaluations(JobScheduler)

from bayeslrp.architectures import (
    ARCHITECTURES,
    LEARNABLE_LAYERS,
    output_layer,
    split_model_name,
)
from bayeslrp.names import (
    ANALYSIS_SECTIONS,
    ATTACKS,
    BASELINES,
    BAYESIAN_INFERENCES,
    DATASETS,
    DET_ONLY_EXPLAINERS,
    EXPLAINER_SPEED_SETTINGS,
    EXPLANATION_ATTACKS,
    FITTED,
    INFERENCES,
    SHARED_SETTING_ATTACKS,
    SINGLE_NETWORK_INFERENCES,
    STUDY_EXPLAINER,
    TRAIN_IMAGES,
    alternatives,
    sgmcmc_draws_per_cycle,
)


wildcard_constraints:
    dataset=alternatives(DATASETS),
    arch=alternatives(ARCHITECTURES),
    model=f"({alternatives(ARCHITECTURES)})_({alternatives(INFERENCES)})",
    seed=r"\d+",
    chain=r"\d+",
    attack=alternatives(ATTACKS),
    n=r"\d+",
    layer=r"\d+",


def project_path(path):
    """Config paths are relative to the project, wherever snakemake runs."""
    return str(PROJECT / path)


# Cached: every rule's package_modules walks the same modules (563 parses, 3.3 s of each
# snakemake start-up, before the cache).
@functools.cache
def imported_modules(name):
    """The bayeslrp modules that module `name` imports directly (read with ast)."""
    found = set()
    for node in ast.walk(ast.parse((PACKAGE / f"{name}.py").read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "bayeslrp":
            found |= {a.name for a in node.names if (PACKAGE / f"{a.name}.py").exists()}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
            "bayeslrp."
        ):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {
                a.name.split(".")[1]
                for a in node.names
                if a.name.startswith("bayeslrp.")
            }
    return frozenset(found)


def beside_others(most):
    """Threads of a job on the run's critical path that should start while others still
    run (the claims): half the local cores, at least 1, at most `most`. A job that asks
    for every core waits until all are free at once, which near the end of a run is when
    everything else is done; unknown cores (a cluster run without --cores): `most`."""
    try:
        cores = workflow.cores
    except WorkflowError:
        return most
    return max(1, min(most, cores // 2))


def package_modules(*names):
    """Package modules a rule depends on, so that editing one reruns exactly that rule —
    `names` and every module they import, transitively (derived from the imports, so the
    list cannot drift). Every script logs and seeds through `runtime`, so it is always
    included. tests/test_rule_modules.py checks each rule's list against its script.
    """
    seen, todo = set(), ["runtime", *names]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += sorted(imported_modules(name))
    return [str(PACKAGE / f"{name}.py") for name in sorted(seen)]


include: "common/paths.smk"
include: "common/settings.smk"
include: "common/runs.smk"
include: "common/checks.smk"


# Last, once every helper it uses is defined.
check_config(config)
