"""Heatmaps of the clean test points by every explainer of one model, at every explained
layer, for every number of samples at once, and their per-pixel posterior standard
deviation over the largest number of samples."""

import time

from bayeslrp import io
from bayeslrp.explainers import bayesian_heatmap_moments, settings_for
from bayeslrp.models import output_layer, split_model_name
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import chunk_setting, configure_logging, job, resolve_device, set_threads

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
device = resolve_device(p.device)
arch, _ = split_model_name(w.model)
chunk = chunk_setting(snakemake, "explainers", arch, device)
ns = p.n_samples

posterior = Posterior.load(snakemake.input.weights, arch, p.hidden, device).take(max(ns))
x = io.load_tensors(snakemake.input.points)["images"].to(device)
# At the output layer every sample explains the class of the posterior's mean softmax
# (explainers.target: ensemble, shared by every explainer); with per_sample, targets stay
# None: each sample's own class.
ensemble_targets = {n: proba.argmax(1)
                    for n, proba in posterior.predict_proba_prefixes(x, ns).items()}  # fmt: skip

tensors = {}
for name, given in p.explainers.items():
    settings = settings_for(name, given, snakemake.config["explainers"], chunk)
    for layer in p.layers:
        start = time.perf_counter()
        targets = None
        if layer == output_layer(arch) and given["target"] == "ensemble":
            targets = ensemble_targets
        heatmaps, spread = bayesian_heatmap_moments(
            name, posterior, x, layer, ns, targets, **settings
        )
        tensors |= {io.relevance_key(name, layer, n): h.cpu() for n, h in heatmaps.items()}
        # Bykov et al.'s heatmap uncertainty
        tensors[io.spread_key(name, layer, max(ns))] = spread.cpu()
        seconds = time.perf_counter() - start
        log.info("%s clean heatmaps at layer %d for n in %s, %d points: %.1f s "
                 "(%.0f heatmaps/s)", name, layer, ns, len(x), seconds,
                 max(ns) * len(x) / seconds)  # fmt: skip
io.save_tensors(tensors, snakemake.output[0])
