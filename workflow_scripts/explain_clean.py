"""Heatmaps of the clean test points at one layer, for every number of samples at once."""

from bayeslrp import io
from bayeslrp.lrp import bayesian_relevance
from bayeslrp.models import build_model, output_layer, split_model_name
from bayeslrp.posterior import check_posterior, predict_proba_prefixes, take
from bayeslrp.runtime import configure_logging, execution_setting, resolve_device, set_threads

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
device = resolve_device(p.device)
arch, _ = split_model_name(w.model)
layer, ns = int(w.layer), p.n_samples

model = build_model(arch, p.hidden).to(device)
posterior = io.load_tensors(snakemake.input.weights)
check_posterior(posterior, model, snakemake.input.weights)
weights = {k: v.to(device) for k, v in take(posterior, max(ns)).items()}
x = io.load_tensors(snakemake.input.points)["images"].to(device)

# At the output layer every sample explains the class of the posterior's mean softmax
# (lrp.target: ensemble); with per_sample, targets stay None: each sample's own class.
targets = None
if layer == output_layer(arch) and p.lrp["target"] == "ensemble":
    targets = {
        n: proba.argmax(1) for n, proba in predict_proba_prefixes(model, weights, x, ns).items()
    }
heatmaps = bayesian_relevance(
    model, weights, x, layer, ns, targets, epsilon=p.lrp["epsilon"],
    inner_start=p.lrp["inner_start"], chunk=execution_setting(snakemake, "lrp", "chunk"),
    backend=execution_setting(snakemake, "lrp", "backend"),
)  # fmt: skip
log.info("clean heatmaps at layer %d for n in %s, %d points", layer, ns, len(x))
io.save_tensors({f"samples{n}": heat.cpu() for n, heat in heatmaps.items()}, snakemake.output[0])
