"""Median, quartiles and mean (bootstrap interval) of robustness per model, n, layer, k."""

import pandas as pd

from bayeslrp import io
from bayeslrp.runtime import configure_logging
from bayeslrp.tables import robustness_summary

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = configure_logging(snakemake)
p = snakemake.params

summary = robustness_summary(
    pd.read_csv(snakemake.input.robustness), p.bootstrap, p.confidence, p.seed
)
log.info("%d summary rows", len(summary))
io.save_csv(summary, snakemake.output.summary)
