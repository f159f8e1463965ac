"""Figure: distributions of LRP robustness per model, dataset, attack and k."""

import pandas as pd

from bayeslrp.figures import robustness_distributions
from bayeslrp.io import atomic_path
from bayeslrp.runtime import configure_logging

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = configure_logging(snakemake)

plot = robustness_distributions(pd.read_csv(snakemake.input.robustness))
for key in ("png", "pdf"):
    with atomic_path(snakemake.output[key]) as tmp:
        plot.save(tmp, format=key, dpi=150, verbose=False)
    log.info("wrote %s", snakemake.output[key])
