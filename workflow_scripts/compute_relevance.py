"""Heatmaps of the adversarial test points at one layer, beside the clean ones."""

import torch

from bayeslrp import io
from bayeslrp.lrp import bayesian_relevance
from bayeslrp.models import build_model, output_layer, split_model_name
from bayeslrp.posterior import check_posterior, predict_proba, take
from bayeslrp.runtime import configure_logging, resolve_device, set_threads

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
device = resolve_device(p.device)
arch, _ = split_model_name(w.model)
layer, n = int(w.layer), int(w.n)

model = build_model(arch, p.hidden).to(device)
posterior = io.load_tensors(snakemake.input.weights)
check_posterior(posterior, model, snakemake.input.weights)
weights = {k: v.to(device) for k, v in take(posterior, n).items()}
x_adv = io.load_tensors(snakemake.input.adversarial)["adversarial"].to(device)

targets = None
if layer == output_layer(arch):  # the class the posterior predicts for the adversarial
    targets = {n: predict_proba(model, weights, x_adv).argmax(1)}
adversarial = bayesian_relevance(
    model, weights, x_adv, layer, [n], targets, epsilon=p.lrp["epsilon"],
    inner_start=p.lrp["inner_start"], chunk=p.lrp["chunk"], backend=p.lrp["backend"],
)[n].cpu()  # fmt: skip
clean = io.load_tensors(snakemake.input.clean)[f"samples{n}"]
for name, heat in (("clean", clean), ("adversarial", adversarial)):
    if not torch.isfinite(heat).all():
        raise FloatingPointError(f"{name} heatmaps of {w.model} n={n} layer {layer} hold NaN/inf")
log.info("adversarial heatmaps at layer %d over %d samples, %d points", layer, n, len(x_adv))
io.save_tensors({"clean": clean, "adversarial": adversarial}, snakemake.output.relevance)
