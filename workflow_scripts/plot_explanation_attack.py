"""Heatmaps before and after an attack on the explanation: the det net's LRP, its
beta-smoothed LRP (when run) and the Bayesian net's mean LRP at the largest n, on one test
point per dataset."""

from functools import cache

import pandas as pd

from bayeslrp import io
from bayeslrp.figures import clean_vs_adversarial, save
from bayeslrp.heatmap_examples import example_runs, output_examples
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
inp, out, p = snakemake.input, snakemake.output, snakemake.params
load = cache(io.load_tensors)
runs = example_runs(p.examples, inp.points, inp.attacks, inp.relevance)
examples, notes = output_examples(
    runs, pd.read_csv(inp.robustness), p.k, load,
    lambda run: f"{run['dataset']}\n{run['model']} {run['explainer']} n={run['n']}",
)  # fmt: skip
title = (f"Top-{p.k} pixels before and after the {runs[0]['attack']} attack on the "
         f"explanation (red: positive, blue: negative relevance)\n{'; '.join(notes)}")  # fmt: skip
save(clean_vs_adversarial(examples, p.k, p.topk_mode, title), out.png, out.pdf)
log.info("explanation-attack figure: %s", "; ".join(notes))
