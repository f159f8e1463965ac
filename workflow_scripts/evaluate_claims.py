"""The claims: statistics, bootstrap intervals and verdicts, flagged where a posterior they
rest on failed its gates (gate_posteriors); LRP against baselines."""

import pandas as pd

from bayeslrp import io
from bayeslrp.claims import (
    baseline_comparison,
    claims_breakdown,
    claims_by_explainer,
    claims_table,
)
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
settings = snakemake.params.claims

robustness = pd.read_csv(snakemake.input.robustness)
gates = pd.read_csv(snakemake.input.gates)
breakdown = claims_breakdown(robustness, settings, gates, workers=snakemake.threads)
claims = claims_table(breakdown)
for row in claims.itertuples():
    log.info("%s %s: %.3f [%.3f, %.3f] -> %s (perturbed only: %s)", row.claim, row.statement,
             row.value, row.ci_low, row.ci_high, row.verdict, row.verdict_perturbed)  # fmt: skip
comparison = baseline_comparison(robustness, pd.read_csv(snakemake.input.baselines))
io.save_csv(breakdown, snakemake.output.breakdown)
io.save_csv(claims, snakemake.output.claims)
io.save_csv(comparison, snakemake.output.comparison)
io.save_csv(claims_by_explainer(robustness, settings, gates, workers=snakemake.threads),
            snakemake.output.by_explainer)  # fmt: skip
