"""Attack success against the radius for every model: one table with a masking flag per
model, and a figure."""

import pandas as pd

from bayeslrp.epsilon_sweep import masked
from bayeslrp.figures import epsilon_sweep, save
from bayeslrp.io import atomic_path
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
inp, out, p = snakemake.input, snakemake.output, snakemake.params
MODEL = ["dataset", "arch", "inference", "seed", "n_samples"]

tables = [pd.read_csv(path) for path in inp.tables]
for table in tables:
    table["largest_epsilon"] = table["epsilon"].max()
    table["masked"] = masked(table, p.max_adversarial_accuracy)
    if table["masked"].iloc[0]:
        log.warning("masked: %s", table[MODEL].iloc[0].to_dict())
sweep = pd.concat(tables, ignore_index=True)
with atomic_path(out.table) as tmp:
    sweep.to_csv(tmp, index=False)
save(epsilon_sweep(sweep), out.png, out.pdf)
log.info("%d models swept, %d flagged as masked", len(tables),
         sum(t["masked"].iloc[0] for t in tables))  # fmt: skip
