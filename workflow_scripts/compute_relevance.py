"""Heatmaps of the adversarial test points at one layer, beside the clean ones."""

import torch

from bayeslrp import io
from bayeslrp.explainers import bayesian_heatmaps, job_settings, sample_heatmaps
from bayeslrp.explanation_metrics import SAMPLE_PREFIX, mean_over_samples
from bayeslrp.models import output_layer, split_model_name
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import configure_logging, job, resolve_device, set_threads

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
device = resolve_device(p.device)
arch, _ = split_model_name(w.model)
layer, n = int(w.layer), int(w.n)
settings = job_settings(snakemake)

posterior = Posterior.load(snakemake.input.weights, arch, p.hidden, device).take(n)
x_adv = io.load_tensors(snakemake.input.adversarial)["adversarial"].to(device)

targets = None
# The class the posterior predicts for the adversarial (explainers.target: ensemble);
# None = each sample's own class (per_sample).
if layer == output_layer(arch) and p.explainer["target"] == "ensemble":
    targets = {n: posterior.predict_proba(x_adv).argmax(1)}
adversarial = bayesian_heatmaps(w.explainer, posterior, x_adv, layer, [n], targets, **settings)
adversarial = adversarial[n].cpu()
clean = io.load_tensors(snakemake.input.clean)[f"samples{n}"]
for name, heat in (("clean", clean), ("adversarial", adversarial)):
    if not torch.isfinite(heat).all():
        raise FloatingPointError(f"{name} {w.explainer} heatmaps of {w.model} n={n} layer "
                                 f"{layer} hold NaN/inf")  # fmt: skip
log.info("%s adversarial heatmaps at layer %d over %d samples, %d points", w.explainer, layer,
         n, len(x_adv))  # fmt: skip
result = {"clean": clean, "adversarial": adversarial}

if p.sample_metrics:  # metrics.bayes_robustness: mean_of_robustness
    x = io.load_tensors(snakemake.input.points)["images"].to(device)
    clean_target = adv_target = None
    if targets is not None:
        clean_target, adv_target = posterior.predict_proba(x).argmax(1), targets[n]

    def pairs():
        for start, part in posterior.chunks(settings["chunk"]):
            yield tuple(
                sample_heatmaps(w.explainer, part, inputs, layer=layer, target=target,
                                **settings).cpu()
                for inputs, target in ((x, clean_target), (x_adv, adv_target))
            )  # fmt: skip
            log.info("scored samples %d-%d of %d one by one", start, start + len(part), n)

    for label, values in mean_over_samples(pairs(), p.sample_metrics).items():
        result[SAMPLE_PREFIX + label] = values.float()
io.save_tensors(result, snakemake.output.relevance)
