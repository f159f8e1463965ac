"""Adversarial examples of the test points against the first n posterior samples (for
transfer: crafted on the source net, input `source`, and only scored against this model)."""

import torch

from bayeslrp import io
from bayeslrp.attacks import run_attack
from bayeslrp.models import split_model_name
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import (
    configure_logging,
    execution_setting,
    job,
    resolve_device,
    seed_everything,
    set_threads,
)

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
seed_everything(int(w.seed))
device = resolve_device(p.device)
arch, _ = split_model_name(w.model)

posterior = Posterior.load(snakemake.input.weights, arch, p.hidden, device).take(int(w.n))
points = io.load_tensors(snakemake.input.points)
settings = dict(p.settings)
log.info(
    "%s %s, %d points, %s samples, %s, loss %s",
    w.attack, settings, len(points["labels"]), w.n, p.bayes, p.loss,
)  # fmt: skip
if w.attack == "transfer":  # crafted on the source net (attacks.transfer), not on this one
    settings["source_net"] = Posterior.load(snakemake.input.source, arch, p.hidden, device)
    log.info("crafting on %s", snakemake.input.source)

generator = torch.Generator().manual_seed(int(w.seed))
result = run_attack(
    posterior, points["images"].to(device), points["labels"].to(device),
    attack=w.attack, bayes=p.bayes, loss=p.loss, generator=generator, log=log,
    chunk=execution_setting(snakemake, "attacks", "chunk"),
    **settings,
)  # fmt: skip
result = {key: value.cpu() for key, value in result.items()}
if not torch.isfinite(result["adversarial"]).all():
    raise FloatingPointError(f"{w.attack} produced NaN/inf adversarials for {w.model} n={w.n}")
log.info(
    "moved from the start: %.1f%%; zero loss gradient at the start: %.1f%%, at the last "
    "iterate: %.1f%%", 100 * result["moved"].double().mean(),
    100 * result["zero_gradient_start"].double().mean(),
    100 * result["zero_gradient_last"].double().mean(),
)  # fmt: skip
io.save_tensors({**result, "epsilon": float(settings["epsilon"])}, snakemake.output.adversarial)
