"""Epsilon-LRP heatmaps of the clean and adversarial test points at one layer."""

from bayeslrp import io
from bayeslrp.lrp import bayesian_lrp
from bayeslrp.models import build_model, split_model_name
from bayeslrp.posterior import check_posterior, predict_proba, sample_networks, take
from bayeslrp.runtime import configure_logging, resolve_device, set_threads

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = configure_logging(snakemake)
set_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
w, p = snakemake.wildcards, snakemake.params
arch, _ = split_model_name(w.model)

model = build_model(arch, p.hidden).to(device)
posterior = io.load_tensors(snakemake.input.weights)
check_posterior(posterior, model, snakemake.input.weights)
weights = {k: v.to(device) for k, v in take(posterior, int(w.n)).items()}
inputs = {
    "clean": io.load_tensors(snakemake.input.points)["images"].to(device),
    "adversarial": io.load_tensors(snakemake.input.adversarial)["adversarial"].to(device),
}

heatmaps = {}
for name, x in inputs.items():
    # Every sample explains the class predicted by the posterior's mean softmax.
    target = predict_proba(model, weights, x).argmax(1)
    heatmaps[name] = bayesian_lrp(
        sample_networks(weights, model), x, int(w.layer), p.epsilon, target, p.inner_start
    ).cpu()
    log.info("%s: %d heatmaps at layer %s over %s samples", name, len(x), w.layer, w.n)
io.save_tensors(heatmaps, snakemake.output.relevance)
