"""Sensitivity study: every claim's statistic and verdict under each variant, and a figure."""

import pandas as pd

from bayeslrp import io
from bayeslrp.claims import sensitivity_table
from bayeslrp.figures import save, sensitivity_figure
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
inp, out, p = snakemake.input, snakemake.output, snakemake.params

table = sensitivity_table(
    {v: pd.read_csv(path) for v, path in zip(p.variants, inp.claims, strict=True)},
    {v: pd.read_csv(path) for v, path in zip(p.variants, inp.attacks, strict=True)},
    dict(p.overrides),
)
io.save_csv(table, out.table)
save(sensitivity_figure(table), out.png, out.pdf)
log.info("sensitivity over %d variants", len(p.variants))
