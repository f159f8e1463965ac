"""Claims C1-C5: statistics, bootstrap intervals and verdicts, and the report's first page."""

from pathlib import Path

import pandas as pd

from bayeslrp import io
from bayeslrp.claims import claims_breakdown, claims_table, summary_page
from bayeslrp.runtime import configure_logging

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = configure_logging(snakemake)
settings = snakemake.params.claims

robustness = pd.read_csv(snakemake.input.robustness)
breakdown = claims_breakdown(robustness, settings)
claims = claims_table(breakdown)
for row in claims.itertuples():
    log.info("%s %s: %.3f [%.3f, %.3f] -> %s (perturbed only: %s)", row.claim, row.statement,
             row.value, row.ci_low, row.ci_high, row.verdict, row.verdict_perturbed)  # fmt: skip
io.save_csv(breakdown, snakemake.output.breakdown)
io.save_csv(claims, snakemake.output.claims)
page = summary_page(claims, Path(snakemake.input.description).read_text(), settings)
with io.atomic_path(snakemake.output.summary) as tmp:
    Path(tmp).write_text(page)
