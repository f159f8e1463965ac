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


def check_config(config):
    """Checks the JSON schema cannot express; each names the key and the fix."""
    points = config["data"]["n_test_points"]
    if points % 10:
        raise ValueError(
            f"data.n_test_points = {points}: must be a multiple of 10 so that the test "
            f"points are balanced over the 10 classes"
        )
    hmc_samples = config["hmc"]["num_samples"]
    if config["hmc"]["protocol"] == "full_data":
        hmc_samples *= config["hmc"]["num_chains"]
    if any(m.endswith("_hmc") for m in config["models"]) and hmc_samples < max(
        config["n_samples"]
    ):
        raise ValueError(
            f"n_samples asks for up to {max(config['n_samples'])} posterior samples but HMC "
            f"keeps {hmc_samples} (hmc.num_samples, times hmc.num_chains with protocol "
            f"full_data); raise hmc.num_samples "
            f"or lower n_samples"
        )
    for key in ("k", "k_correlation"):
        if config["claims"][key] not in config["lrp"]["topk"]:
            raise ValueError(
                f"claims.{key} = {config['claims'][key]} is not one of lrp.topk "
                f"{config['lrp']['topk']}; add it to lrp.topk or change claims.{key}"
            )
    unknown = set(config["sensitivity"]["variants"]) - set(
        config["sensitivity"]["catalogue"]
    )
    if unknown:
        raise ValueError(
            f"sensitivity.variants lists {sorted(unknown)}, which sensitivity.catalogue does "
            f"not define; add them to the catalogue or remove them from the list"
        )
    for name in config["sensitivity"]["variants"]:  # each nested run's config, up front
        try:
            validate(
                variant_settings(name), str(PROJECT / "schemas/config.schema.yaml")
            )
        except WorkflowError as error:
            raise ValueError(
                f"sensitivity variant {name} (this config, then sensitivity.scale, then "
                f"sensitivity.catalogue.{name}) is not a valid config: {error}"
            ) from None
    for dataset in config["datasets"]:
        if (
            not config["data"]["search_paths"][dataset]
            and "local" in config["data"]["sources"]
        ):
            raise ValueError(
                f"data.search_paths.{dataset} is empty but data.sources has local"
            )


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


def n_samples(model):
    """Posterior sample counts at which a model is evaluated; det nets have one sample."""
    return [1] if model.endswith("_det") else sorted(config["n_samples"])


def explained_layers(model):
    """Layers whose units are explained: the output layer, or every learnable layer."""
    arch, _ = split_model_name(model)
    if config["lrp"]["layers"] == "all":
        return list(LEARNABLE_LAYERS[arch])
    return [output_layer(arch)]


def canonical(settings):
    """`settings` with keys sorted at every level.

    Snakemake compares params as written, so the same values in another key order (a
    reordered YAML file, a merged preset) would otherwise rerun the rule.
    """
    if isinstance(settings, dict):
        return {key: canonical(settings[key]) for key in sorted(settings)}
    return settings


def lrp_settings(wildcards):
    """The LRP keys a heatmap depends on (not topk: that only affects the tables; not the
    speed settings backend and chunk, which the scripts read with execution_setting)."""
    keys = ("epsilon", "inner_start", "target")
    return {k: config["lrp"][k] for k in keys}


def sample_robustness_settings(wildcards):
    """Top-k settings, for the relevance rule only where it scores samples one by one.

    With the default mean_heatmap metric a top-k change reruns the tables, not LRP.
    """
    if (
        config["metrics"]["bayes_robustness"] != "mean_of_robustness"
        or wildcards.n == "1"
    ):
        return None
    return {"topk": config["lrp"]["topk"], "topk_mode": config["lrp"]["topk_mode"]}


def sample_robustness_modules():
    """The metrics module is relevance code only where samples are scored one by one."""
    if config["metrics"]["bayes_robustness"] == "mean_of_robustness":
        return ["metrics"]
    return []


def for_job(value, wildcards):
    """A setting given once, per dataset, or per dataset and architecture, for one job."""
    if isinstance(value, dict):
        value = value[wildcards.dataset]
    if isinstance(value, dict):
        arch = (
            wildcards.arch
            if "arch" in wildcards.keys()
            else wildcards.model.split("_")[0]
        )
        value = value[arch]
    return value


def per_job(section, key):
    """`config[section][key]` (e.g. det/vi epochs, vi lr) for a job."""
    return lambda wildcards: for_job(config[section][key], wildcards)


def hmc_start_weights(wildcards):
    """The deterministic net HMC starts from (hmc.init: det_weights), else nothing."""
    if config["hmc"]["init"] != "det_weights":
        return []
    return "results/posterior/{dataset}/{arch}_det/seed{seed}/weights.pt".format(
        **wildcards
    )


def hidden(wildcards):
    """H of the job's network."""
    return for_job(config["hidden"], wildcards)


def model_runs():
    """(dataset, model, seed) of every trained model."""
    return [
        dict(dataset=d, model=m, seed=s)
        for d in config["datasets"]
        for m in config["models"]
        for s in config["seeds"]
    ]


def evaluation_runs(model):
    """(attack, n, layer) of every relevance artifact of one model."""
    return [
        dict(attack=a, n=n, layer=layer)
        for a in config["attacks"]["names"]
        for n in n_samples(model)
        for layer in explained_layers(model)
    ]


def run_outputs(pattern):
    return [pattern.format(**run) for run in model_runs()]


def evaluation_inputs(kind):
    """Attack or relevance artifacts of one model, in the order of `evaluation_runs`."""
    pattern = {
        "attacks": "results/attacks/{dataset}/{model}/seed{seed}/{attack}_samples{n}.pt",
        "relevance": "results/relevance/{dataset}/{model}/seed{seed}/{attack}_samples{n}_layer{layer}.pt",
    }[kind]

    def inputs(w):
        return [pattern.format(**w, **run) for run in evaluation_runs(w.model)]

    return inputs


def posterior_for(wildcards):
    """The model's weights, after checking the job's n and layer wildcards against it.

    A hand-typed target such as `..._samples500_layer2.pt` fails here, while the DAG is
    built, with a message naming the problem, instead of deep inside a job.
    """
    if "n" in wildcards.keys() and int(wildcards.n) not in n_samples(wildcards.model):
        raise ValueError(
            f"{wildcards.model} is evaluated with n_samples in {n_samples(wildcards.model)}, "
            f"not {wildcards.n}; add {wildcards.n} to n_samples in the config "
            f"(deterministic nets have n = 1)"
        )
    if "layer" in wildcards.keys():
        arch, _ = split_model_name(wildcards.model)
        if int(wildcards.layer) not in LEARNABLE_LAYERS[arch]:
            raise ValueError(
                f"layer {wildcards.layer} is not a learnable layer of {arch}; "
                f"choose one of {LEARNABLE_LAYERS[arch]}"
            )
    return "results/posterior/{dataset}/{model}/seed{seed}/weights.pt".format(
        **wildcards
    )


# --- figures ---------------------------------------------------------------------------


def bayes_models():
    return [m for m in config["models"] if not m.endswith("_det")]


def figure_models():
    """(dataset, model) of the per-model figures (Figs 4-9): each Bayesian net beside the
    deterministic net of its architecture, or each deterministic net in a det-only run.
    """
    shown = bayes_models() or config["models"]
    return [dict(dataset=d, model=m) for d in config["datasets"] for m in shown]


def example_models():
    """The nets of the heatmap figures: a deterministic and a Bayesian net of the same
    architecture (the paper's pairs, HMC first), else whatever the run has."""
    for bayes in ("fc_hmc", "conv_vi", "fc_vi", "conv_hmc"):
        det = bayes.split("_")[0] + "_det"
        if bayes in config["models"] and det in config["models"]:
            return [det, bayes]
    return config["models"][:2]


def example_dataset():
    """The dataset of Figs 2 and 3 (Fashion-MNIST, as in the paper, when it is run)."""
    return (
        "fashion_mnist"
        if "fashion_mnist" in config["datasets"]
        else config["datasets"][0]
    )


def heatmap_examples():
    """Artifacts the heatmap figures read: FGSM (else the first attack) at the largest n,
    first seed; every explained layer of the first net on the example dataset."""
    attack = (
        "fgsm"
        if "fgsm" in config["attacks"]["names"]
        else config["attacks"]["names"][0]
    )
    examples = []
    for dataset in config["datasets"]:
        for position, model in enumerate(example_models()):
            arch, _ = split_model_name(model)
            layers = [output_layer(arch)]
            if position == 0 and dataset == example_dataset():
                layers = explained_layers(model)
            for layer in layers:
                run = dict(dataset=dataset, model=model, seed=config["seeds"][0],
                           attack=attack, n=max(n_samples(model)), layer=layer)  # fmt: skip
                examples.append(run)
    return examples


def heatmap_inputs(kind):
    pattern = {
        "points": "results/data/{dataset}/test_points.pt",
        "attacks": "results/attacks/{dataset}/{model}/seed{seed}/{attack}_samples{n}.pt",
        "relevance": "results/relevance/{dataset}/{model}/seed{seed}/{attack}_samples{n}_layer{layer}.pt",
    }[kind]
    return [pattern.format(**run) for run in heatmap_examples()]


def figure_columns():
    """figure_models() as columns, for expand(..., zip, ...)."""
    runs = figure_models()
    return {
        "dataset": [r["dataset"] for r in runs],
        "model": [r["model"] for r in runs],
    }


# --- sensitivity study -------------------------------------------------------------------


def merged(base, overrides):
    """`base` with `overrides` applied key by key at every level (as Snakemake merges
    --configfile presets)."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def variant_settings(name):
    """The complete config of one sensitivity variant (without a sensitivity study)."""
    study = config["sensitivity"]
    base = {k: v for k, v in config.items() if k != "sensitivity"}
    return canonical(merged(merged(base, study["scale"]), study["catalogue"][name]))


def variant_config(wildcards):
    return variant_settings(wildcards.variant)


def sensitivity_variants():
    return sorted(config["sensitivity"]["variants"])


def variant_overrides():
    catalogue = config["sensitivity"]["catalogue"]
    return canonical({name: catalogue[name] for name in sensitivity_variants()})


def sensitivity_outputs(key):
    """The sensitivity study's outputs, or nothing when the config has no variants."""
    if not sensitivity_variants():
        return []
    return {
        "table": "results/tables/sensitivity.csv",
        "png": "results/figures/sensitivity.png",
    }[key]


# Last, once every helper it uses is defined.
check_config(config)
