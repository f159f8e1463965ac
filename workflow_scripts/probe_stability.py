"""Gradient-free stability of every explainer of one model (stability.py): max- and
average sensitivity and the local Lipschitz estimate of the output-layer heatmap under
random noise, for one draw and each n of n_samples."""

import time

import numpy as np
import torch

from bayeslrp import io
from bayeslrp.explainers import settings_for
from bayeslrp.models import output_layer, split_model_name
from bayeslrp.paired_claims import long_table
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import (
    chunk_setting,
    configure_logging,
    job,
    resolve_device,
    seed_everything,
    set_threads,
)
from bayeslrp.stability import probe

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
device = resolve_device(p.device)
arch, inference = split_model_name(w.model)
chunk = chunk_setting(snakemake, "explainers", arch, device)
seed_everything(int(w.seed))
counts = sorted({1, *p.n_samples})
settings = p.stability

posterior = Posterior.load(snakemake.input.weights, arch, p.hidden, device).take(max(counts))
x = io.load_tensors(snakemake.input.points)["images"][: settings["points"]].to(device)
# the same noise for every explainer (a stream of its own: not the attacks' seed)
stream = int(np.random.SeedSequence([int(w.seed), 20]).generate_state(1)[0])
scores = {}
for name, given in p.explainers.items():
    start = time.perf_counter()
    scores[name] = probe(name, posterior, x, output_layer(arch), counts,
                         radius=settings["radius"], samples=settings["samples"],
                         generator=torch.Generator().manual_seed(stream),
                         settings=settings_for(name, given, snakemake.config["explainers"], chunk),
                         target=given["target"])  # fmt: skip
    seconds = time.perf_counter() - start
    log.info("%s: %d points x %d perturbations x n up to %d in %.1f s (%.0f heatmaps/s)",
             name, len(x), settings["samples"], max(counts), seconds,
             (settings["samples"] + 1) * max(counts) * len(x) / seconds)  # fmt: skip
    for n, metrics in scores[name].items():
        log.info("%s, n = %d: max-sensitivity median %.3f", name, n,
                 np.nanmedian(metrics["max_sensitivity"].cpu().numpy()))  # fmt: skip
keys = {"dataset": w.dataset, "arch": arch, "inference": inference, "seed": int(w.seed)}
io.save_csv(long_table(scores, keys), snakemake.output.table)
