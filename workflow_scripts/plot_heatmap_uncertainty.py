"""The posterior spread of the clean output-layer heatmaps (Bykov et al. 2020): a table of
its quartiles over test points per model, and a figure of mean and std for one point."""

import pandas as pd

from bayeslrp import io
from bayeslrp.figures import heatmap_uncertainty, save
from bayeslrp.heatmap_uncertainty import point_table, summary
from bayeslrp.io import atomic_path
from bayeslrp.models import output_layer, split_model_name
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
inp, out, p = snakemake.input, snakemake.output, snakemake.params
KEYS = ["dataset", "model", "seed", "n"]

frames, examples, shown = [], [], set()
for run, relevance, points in zip(p.runs, inp.relevance, inp.points, strict=True):
    heat, layer = io.load_tensors(relevance), output_layer(split_model_name(run["model"])[0])
    mean = heat[io.relevance_key(p.explainer, layer, run["n"])]
    std = heat[io.spread_key(p.explainer, layer, run["n"])]
    table = point_table(mean, std, p.k, p.topk_mode)
    frames.append(table.assign(**run))
    # The figure: the first seed of each (dataset, model), its test point 0.
    if (run["dataset"], run["model"]) not in shown:
        shown.add((run["dataset"], run["model"]))
        examples.append({
            "name": f"{run['dataset']}\n{run['model']} n={run['n']}",
            "image": io.load_tensors(points)["images"][0, 0].numpy(),
            "mean": mean[0, 0].numpy(), "std": std[0, 0].numpy(),
            "relative_spread": table["relative_spread"].iloc[0],
        })  # fmt: skip
points = pd.concat(frames, ignore_index=True)
with atomic_path(out.table) as tmp:
    summary(points, KEYS).to_csv(tmp, index=False)
title = ("Clean LRP at the output layer, test point 0: mean over the draws and their "
         "per-pixel std\n(spread = sum of std / sum of |mean|, Bykov et al. 2020)")  # fmt: skip
save(heatmap_uncertainty(examples, title), out.png, out.pdf)
log.info("heatmap spread of %d runs, %d points", len(p.runs), len(points))
