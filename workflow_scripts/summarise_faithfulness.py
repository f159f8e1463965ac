"""The faithfulness probe of every model in one table, its claims (C10, and C10r with the
robustness table) with intervals and verdicts, and its figure."""

import pandas as pd

from bayeslrp import io
from bayeslrp.faithfulness_claims import faithfulness_claims
from bayeslrp.figures import faithfulness_figure, save
from bayeslrp.paired_claims import summarise
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
inp, out = snakemake.input, snakemake.output

frame = pd.concat([pd.read_csv(path) for path in inp.tables], ignore_index=True)
summary = summarise(frame)
robustness = pd.read_csv(inp.robustness, usecols=["dataset", "arch", "inference", "seed",
                                                  "attack", "n_samples", "explainer", "layer",
                                                  "metric", "explanation_robustness"])
claims = faithfulness_claims(frame, snakemake.params.claims, pd.read_csv(inp.gates),
                             robustness)  # fmt: skip
for row in claims.itertuples():
    log.info("%s %s: %.3f [%.3f, %.3f] -> %s", row.claim, row.statement, row.value,
             row.ci_low, row.ci_high, row.verdict)  # fmt: skip
io.save_csv(summary, out.table)
io.save_csv(claims, out.claims)
save(faithfulness_figure(summary), out.figure, out.pdf)
