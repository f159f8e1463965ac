"""MCMC (HMC, SG-MCMC) convergence in function space: per-point R-hat distributions and
chain traces."""

import pandas as pd

from bayeslrp.figures import convergence_figure, save
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
inp, out = snakemake.input, snakemake.output


def collect(paths):
    frames = [pd.read_csv(path).assign(**run)
              for run, path in zip(snakemake.params.runs, paths, strict=True)]  # fmt: skip
    return pd.concat(frames, ignore_index=True)


histogram, traces = convergence_figure(collect(inp.points), collect(inp.trace))
save(histogram, out.rhat, out.pdf[0])
save(traces, out.traces, out.pdf[1])
log.info("wrote %s and %s", out.rhat, out.traces)
