"""Faithfulness of every explainer of one model: pixel flipping against a random order
(faithfulness.py) and the cascading model-parameter randomisation test (randomisation.py)
of the output-layer heatmaps, for one draw and each n of n_samples."""

import time

import numpy as np

from bayeslrp import io
from bayeslrp.explainers import settings_for
from bayeslrp.faithfulness import ensemble_targets, probe, random_orders
from bayeslrp.models import output_layer, split_model_name
from bayeslrp.paired_claims import long_table
from bayeslrp.posterior import Posterior
from bayeslrp.randomisation import cascade
from bayeslrp.runtime import (
    chunk_setting,
    configure_logging,
    job,
    resolve_device,
    seed_everything,
    set_threads,
)

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
device = resolve_device(p.device)
arch, inference = split_model_name(w.model)
chunk = chunk_setting(snakemake, "explainers", arch, device)
generator = seed_everything(int(w.seed))
settings, ns, layer = p.faithfulness, p.n_samples, output_layer(arch)

posterior = Posterior.load(snakemake.input.weights, arch, p.hidden, device).take(max(ns))
x = io.load_tensors(snakemake.input.points)["images"][: settings["points"]].to(device)
# one chance ordering per point and one random network per architecture, for every model
stream = int(np.random.SeedSequence([int(w.seed), 21]).generate_state(1)[0])
chance = random_orders(len(x), x[0].numel(), generator.manual_seed(stream))
# the classes explained: the same for every explainer
classes = ensemble_targets(posterior, x, ns)
scores = {}
stored = io.load_tensors(snakemake.input.clean)
for name, given in p.explainers.items():
    start = time.perf_counter()
    heatmaps = {n: stored[io.relevance_key(name, layer, n)][: len(x)].to(device) for n in ns}
    scores[name] = probe(posterior, x, heatmaps, pixels=settings["pixels"],
                         steps=settings["steps"], random_order=chance, targets=classes)  # fmt: skip
    own = settings_for(name, given, snakemake.config["explainers"], chunk)
    targets = classes if given["target"] == "ensemble" else None
    randomised = cascade(name, posterior, x, arch, p.hidden, heatmaps, targets, seed=stream,
                         settings=own)  # fmt: skip
    for from_layer, per_n in randomised.items():
        for n, values in per_n.items():
            scores[name][n][f"mprt_layer{from_layer}"] = values
    for n, metrics in scores[name].items():
        log.info("%s, n = %d: faithfulness median %.3f (most relevant first %.3f, random "
                 "%.3f); similarity after randomising the output layer %.2f", name, n,
                 *(np.nanmedian(metrics[k].cpu().numpy()) for k in
                   ("faithfulness", "morf_auc", "random_auc", f"mprt_layer{layer}")))  # fmt: skip
    log.info("%s: %d points, n up to %d in %.1f s", name, len(x), max(ns),
             time.perf_counter() - start)  # fmt: skip
keys = {"dataset": w.dataset, "arch": arch, "inference": inference, "seed": int(w.seed)}
io.save_csv(long_table(scores, keys), snakemake.output.table)
