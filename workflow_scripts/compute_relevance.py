"""Heatmaps of the adversarial test points at one layer, beside the clean ones."""

import torch

from bayeslrp import io
from bayeslrp.lrp import bayesian_relevance, sample_relevance
from bayeslrp.metrics import mean_sample_robustness
from bayeslrp.models import build_model, output_layer, split_model_name
from bayeslrp.posterior import check_posterior, predict_proba, take
from bayeslrp.runtime import configure_logging, execution_setting, resolve_device, set_threads

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
device = resolve_device(p.device)
arch, _ = split_model_name(w.model)
layer, n = int(w.layer), int(w.n)
lrp = {"epsilon": p.lrp["epsilon"], "inner_start": p.lrp["inner_start"],
       "chunk": execution_setting(snakemake, "lrp", "chunk"),
       "backend": execution_setting(snakemake, "lrp", "backend")}  # fmt: skip

model = build_model(arch, p.hidden).to(device)
posterior = io.load_tensors(snakemake.input.weights)
check_posterior(posterior, model, snakemake.input.weights)
weights = {k: v.to(device) for k, v in take(posterior, n).items()}
x_adv = io.load_tensors(snakemake.input.adversarial)["adversarial"].to(device)

targets = None
# The class the posterior predicts for the adversarial (lrp.target: ensemble); None =
# each sample's own class (per_sample).
if layer == output_layer(arch) and p.lrp["target"] == "ensemble":
    targets = {n: predict_proba(model, weights, x_adv).argmax(1)}
adversarial = bayesian_relevance(model, weights, x_adv, layer, [n], targets, **lrp)[n].cpu()
clean = io.load_tensors(snakemake.input.clean)[f"samples{n}"]
for name, heat in (("clean", clean), ("adversarial", adversarial)):
    if not torch.isfinite(heat).all():
        raise FloatingPointError(f"{name} heatmaps of {w.model} n={n} layer {layer} hold NaN/inf")
log.info("adversarial heatmaps at layer %d over %d samples, %d points", layer, n, len(x_adv))
result = {"clean": clean, "adversarial": adversarial}

if p.sample_robustness:  # metrics.bayes_robustness: mean_of_robustness
    x = io.load_tensors(snakemake.input.points)["images"].to(device)
    clean_target = adv_target = None
    if targets is not None:
        clean_target, adv_target = predict_proba(model, weights, x).argmax(1), targets[n]

    def pairs():
        for start in range(0, n, lrp["chunk"]):
            part = {k: v[start : start + lrp["chunk"]] for k, v in weights.items()}
            yield (
                sample_relevance(model, part, x, layer, target=clean_target, **lrp).cpu(),
                sample_relevance(model, part, x_adv, layer, target=adv_target, **lrp).cpu(),
            )
            log.info(
                "scored samples %d-%d of %d one by one", start, min(start + lrp["chunk"], n), n
            )

    ks, mode = p.sample_robustness["topk"], p.sample_robustness["topk_mode"]
    result["sample_robustness"] = mean_sample_robustness(pairs(), ks, mode).float()
    result["topk"] = torch.tensor(ks)
io.save_tensors(result, snakemake.output.relevance)
