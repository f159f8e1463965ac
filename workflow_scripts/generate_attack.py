"""Adversarial examples of the test points against the first n posterior samples, for every
n (for transfer: crafted on the source net, input `source`, and only scored against this
model), and what each did (attack_evaluation: predictions, the attacks.csv row, the
baselines' heatmaps)."""

import torch

from bayeslrp import io
from bayeslrp.attack_evaluation import evaluate_attack
from bayeslrp.attacks import run_attack
from bayeslrp.models import split_model_name
from bayeslrp.posterior import Posterior
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
seed_everything(int(w.seed))
device = resolve_device(p.device)
arch, inference = split_model_name(w.model)
chunk = chunk_setting(snakemake, "attacks", arch, device)

full = Posterior.load(snakemake.input.weights, arch, p.hidden, device)
points = io.load_tensors(snakemake.input.points)
x, y = points["images"].to(device), points["labels"].to(device)
clean_evaluation = io.load_tensors(snakemake.input.clean)
settings = dict(p.settings)
log.info("%s %s, %d points, samples %s, %s, loss %s", w.attack, settings, len(y), p.n_samples,
         p.bayes, p.loss)  # fmt: skip
if w.attack == "transfer":  # crafted on the source net (attacks.transfer), not on this one
    settings["source_net"] = Posterior.load(snakemake.input.source, arch, p.hidden, device)
    log.info("crafting on %s", snakemake.input.source)

artifact, evaluation, rows = {}, {}, []
for n in p.n_samples:
    # Seeded per n, as if each n were a job of its own: adding an n changes no other n.
    seed_everything(int(w.seed))
    generator = torch.Generator().manual_seed(int(w.seed))
    result = run_attack(
        full.take(n), x, y, attack=w.attack, bayes=p.bayes, loss=p.loss, generator=generator,
        log=log, chunk=chunk, **settings,
    )  # fmt: skip
    result = {key: value.cpu() for key, value in result.items()}
    if not torch.isfinite(result["adversarial"]).all():
        raise FloatingPointError(f"{w.attack} produced NaN/inf adversarials for {w.model} n={n}")
    log.info(
        "n=%d: moved from the start: %.1f%%; zero loss gradient at the start: %.1f%%, at the "
        "last iterate: %.1f%%", n, 100 * result["moved"].double().mean(),
        100 * result["zero_gradient_start"].double().mean(),
        100 * result["zero_gradient_last"].double().mean(),
    )  # fmt: skip
    attack = {**result, "epsilon": float(settings["epsilon"])}
    artifact |= io.nest(io.samples_key(n), attack)
    # Evaluated on the CPU, where evaluate_clean's tensors and the random baseline's
    # generator live.
    keys = {"dataset": w.dataset, "arch": arch, "inference": inference, "seed": int(w.seed),
            "attack": w.attack, "epsilon": attack["epsilon"], "n_samples": n}  # fmt: skip
    tensors, row = evaluate_attack(
        full.take(n).to("cpu"), points["images"], points["labels"], attack,
        io.section(clean_evaluation, io.samples_key(n)), keys, int(w.seed),
    )  # fmt: skip
    log.info("%s n=%d: %s", w.attack, n, row)
    evaluation |= io.nest(io.samples_key(n), tensors)
    rows.append(row)
io.save_tensors(artifact, snakemake.output.adversarial)
io.save_tensors(evaluation, snakemake.output.evaluation)
io.save_json(rows, snakemake.output.row)
