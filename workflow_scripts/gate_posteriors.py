"""Each Bayesian posterior's gates (gates.py: converged in function space, accurate beside
its deterministic reference), which the claims and the probes' summaries flag."""

import pandas as pd

from bayeslrp import io
from bayeslrp.gates import posterior_gates
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)

gates = posterior_gates(pd.read_csv(snakemake.input.posterior),
                        pd.read_csv(snakemake.input.accuracy), snakemake.params.gates)  # fmt: skip
for row in gates[~gates["passed"]].itertuples():
    log.warning("%s %s_%s seed %s failed its gates: %s", row.dataset, row.arch, row.inference,
                row.seed, row.reason)  # fmt: skip
io.save_csv(gates, snakemake.output.gates)
