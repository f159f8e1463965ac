"""FGSM adversarials of the test points against the first n posterior samples."""

from bayeslrp import io
from bayeslrp.attacks import fgsm
from bayeslrp.models import build_model, split_model_name
from bayeslrp.posterior import check_posterior, take
from bayeslrp.runtime import configure_logging, resolve_device, seed_everything, set_threads

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = configure_logging(snakemake)
set_threads(snakemake.threads)
seed_everything(int(snakemake.wildcards.seed))
device = resolve_device(snakemake.params.device)
w, epsilon = snakemake.wildcards, snakemake.params.epsilon
arch, _ = split_model_name(w.model)

model = build_model(arch, snakemake.params.hidden).to(device)
posterior = io.load_tensors(snakemake.input.weights)
check_posterior(posterior, model, snakemake.input.weights)
weights = {k: v.to(device) for k, v in take(posterior, int(w.n)).items()}
points = io.load_tensors(snakemake.input.points)

log.info("FGSM, epsilon %g, %d points, %s samples", epsilon, len(points["labels"]), w.n)
adversarial = fgsm(
    model, weights, points["images"].to(device), points["labels"].to(device), epsilon
).cpu()
io.save_tensors({"adversarial": adversarial, "epsilon": float(epsilon)}, snakemake.output[0])
