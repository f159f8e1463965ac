"""Median, quartiles and mean (bootstrap interval) of robustness per model, n, layer, k."""

import pandas as pd

from bayeslrp import io
from bayeslrp.runtime import configure_logging, job
from bayeslrp.tables import robustness_summary

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
p = snakemake.params

summary = robustness_summary(
    pd.read_csv(snakemake.input.robustness), p.bootstrap, p.confidence, p.seed
)
log.info("%d summary rows", len(summary))
io.save_csv(summary, snakemake.output.summary)
