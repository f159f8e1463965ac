"""Diagnostics: accuracy and attack success vs n; posterior diagnostics."""

import pandas as pd

from bayeslrp.figures import accuracy_and_success, posterior_diagnostics, save
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
inp, out = snakemake.input, snakemake.output

plot = accuracy_and_success(pd.read_csv(inp.accuracy), pd.read_csv(inp.attacks))
save(plot, out.accuracy, out.pdf[0])
save(posterior_diagnostics(pd.read_csv(inp.posterior)), out.posterior, out.pdf[1])
log.info("wrote %s and %s", out.accuracy, out.posterior)
