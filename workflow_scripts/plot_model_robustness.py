"""Figs 4-9 for one Bayesian net: robustness distributions, and LRP vs softmax robustness."""

import pandas as pd

from bayeslrp.figures import lrp_vs_softmax, robustness_by_layer, save
from bayeslrp.models import split_model_name
from bayeslrp.runtime import configure_logging, job
from bayeslrp.tables import study_rows, topk_rows

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
w, out = snakemake.wildcards, snakemake.output
arch, inference = split_model_name(w.model)

# The study's explainer and metric: LRP, top-k overlap at each k.
robustness = topk_rows(study_rows(pd.read_csv(snakemake.input.robustness)), snakemake.params.ks)
# The net and the deterministic net of its architecture, on this dataset.
rows = robustness[
    (robustness["dataset"] == w.dataset)
    & (robustness["arch"] == arch)
    & robustness["inference"].isin([inference, "det"])
]
name = f"{w.dataset}, {arch}"
title = f"LRP robustness per test point: {name}, det vs {inference} (all seeds)"
save(robustness_by_layer(rows, title), out.distributions, out.pdf[0])
k = snakemake.params.k_correlation
title = f"LRP robustness (k = {k}) vs softmax robustness: {name}"
save(lrp_vs_softmax(rows[rows["k"] == k], title), out.correlation, out.pdf[1])
log.info("figures of %s %s from %d rows", w.dataset, w.model, len(rows))
