"""Gradient-masking flags of every model and n (masking.py) from the aggregated tables."""

import pandas as pd

from bayeslrp import io
from bayeslrp.masking import MODEL_KEYS, masking_flags
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
inp, p = snakemake.input, snakemake.params

# The per-point predictions are all the checks need of the (large) robustness table.
robustness = pd.read_csv(inp.robustness, usecols=[*MODEL_KEYS, "attack", "point", "attack_success"])
attacks = pd.read_csv(inp.attacks)
sweep = pd.read_csv(inp.sweep) if inp.sweep else None
flags = masking_flags(robustness, attacks, sweep, alpha=p.alpha,
                      max_zero_gradient=p.max_zero_gradient,
                      transfer_source=p.transfer_source)  # fmt: skip
for row in flags[flags["verdict"] == "flagged"].to_dict("records"):
    log.warning("masking flag: %s", row)
log.info("%d checks, %d flagged", len(flags), (flags["verdict"] == "flagged").sum())
io.save_csv(flags, snakemake.output.flags)
