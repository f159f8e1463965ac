"""Figs 1-3: top-k heatmaps of a clean and an adversarial test point, their overlap, and
every layer's heatmaps of a deterministic net."""

from functools import cache

import pandas as pd

from bayeslrp import io
from bayeslrp.figures import clean_vs_adversarial, inner_layers, layer_label, save, topk_overlap
from bayeslrp.heatmap_examples import example_runs, heatmaps, output_examples
from bayeslrp.models import split_model_name
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
inp, out, p = snakemake.input, snakemake.output, snakemake.params
robustness = pd.read_csv(inp.robustness)
# Several examples share one artifact (every layer and n of an attack sit in one file).
load = cache(io.load_tensors)
runs = example_runs(p.examples, inp.points, inp.attacks, inp.relevance)
examples, notes = output_examples(
    runs, robustness, p.k, load, lambda run: f"{run['dataset']}\n{run['model']} n={run['n']}"
)
attack = runs[0]["attack"].upper()
title = (f"Top-{p.k} LRP pixels before and after {attack} (red: positive, blue: negative "
         f"relevance)\n{'; '.join(notes)}")  # fmt: skip
save(clean_vs_adversarial(examples, p.k, p.topk_mode, title), out.fig1, out.pdf[0])

# Figs 2 and 3: the first (deterministic) net on the example dataset.
ex = next(e for e in examples if e["run"]["dataset"] == p.example_dataset)
name = f"{ex['name'].replace(chr(10), ' ')}, point {ex['point']}, {attack}"
plot = topk_overlap(ex["image"], ex["clean_heat"], ex["adv_heat"], p.k, p.topk_mode,
                    f"Top-{p.k} overlap: {name}")  # fmt: skip
save(plot, out.fig2, out.pdf[1])
net = ex["run"]["model"]
layers = [run for run in runs if run["dataset"] == p.example_dataset and run["model"] == net]
arch = split_model_name(net)[0]
names = layer_label(pd.DataFrame({"layer": [run["layer"] for run in layers], "arch": arch}))
heats = {str(label): heatmaps(run, ex["point"], load)
         for label, run in zip(names, layers, strict=True)}  # fmt: skip
plot = inner_layers(ex["image"], ex["adversarial"], heats, f"LRP of every layer: {name}")
save(plot, out.fig3, out.pdf[2])
log.info("heatmap figures: %s", "; ".join(notes))
