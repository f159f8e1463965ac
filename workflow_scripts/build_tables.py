"""Collect per-model results into the study's tables."""

import pandas as pd

from bayeslrp import io
from bayeslrp.models import split_model_name
from bayeslrp.runtime import configure_logging, job
from bayeslrp.tables import concat_tables, posterior_rows

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
inp = snakemake.input

model_keys = ["dataset", "arch", "inference", "seed", "n_samples"]
robustness = concat_tables(
    inp.robustness, model_keys + ["attack", "explainer", "layer", "metric", "point"]
)
accuracy = concat_tables(inp.accuracy, model_keys)
attacks = concat_tables(inp.attacks, model_keys + ["attack"])
baselines = concat_tables(inp.baselines, model_keys + ["attack", "explainer", "metric", "point"])
# One row per dataset: the source used, where it was found, and the verified checksums.
sources = pd.json_normalize([io.load_json(path) for path in inp.sources]).drop(columns="attempts")


def keys(run):
    arch, inference = split_model_name(run["model"])
    return {"dataset": run["dataset"], "arch": arch, "inference": inference, "seed": run["seed"]}


# fit summaries of every model, and the MCMC posteriors' convergence in function space
summaries = [*zip(snakemake.params.runs, inp.fits, strict=True),
             *zip(snakemake.params.mcmc_runs, inp.convergence, strict=True)]  # fmt: skip
posterior = pd.concat(
    [pd.read_csv(path) for path in inp.weights]
    + [posterior_rows(keys(run), io.load_json(path)) for run, path in summaries],
    ignore_index=True,
).sort_values(["dataset", "arch", "inference", "seed", "statistic", "layer"], kind="stable")
log.info("%d robustness rows, %d accuracy rows", len(robustness), len(accuracy))
io.save_csv(robustness, snakemake.output.robustness)
io.save_csv(accuracy, snakemake.output.accuracy)
io.save_csv(attacks, snakemake.output.attacks)
io.save_csv(baselines, snakemake.output.baselines)
io.save_csv(posterior, snakemake.output.posterior)
io.save_csv(sources, snakemake.output.data_sources)
