"""Per-point LRP and softmax robustness of one model, for every attack, n, layer and k."""

import pandas as pd

from bayeslrp import io
from bayeslrp.models import build_model, split_model_name
from bayeslrp.posterior import check_posterior, predict_proba, take
from bayeslrp.runtime import configure_logging
from bayeslrp.tables import robustness_rows

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = configure_logging(snakemake)
w, p = snakemake.wildcards, snakemake.params
arch, inference = split_model_name(w.model)

model = build_model(arch, p.hidden)
posterior = io.load_tensors(snakemake.input.weights)
check_posterior(posterior, model, snakemake.input.weights)
points = io.load_tensors(snakemake.input.points)

frames = []
for run, attack_path, relevance_path in zip(
    p.runs, snakemake.input.attacks, snakemake.input.relevance, strict=True
):
    attack = io.load_tensors(attack_path)
    heat = io.load_tensors(relevance_path)
    weights = take(posterior, run["n"])
    keys = {"dataset": w.dataset, "arch": arch, "inference": inference, "seed": int(w.seed),
            "attack": run["attack"], "epsilon": attack["epsilon"], "n_samples": run["n"],
            "layer": run["layer"]}  # fmt: skip
    frames.append(
        robustness_rows(
            keys,
            points["labels"],
            predict_proba(model, weights, points["images"]),
            predict_proba(model, weights, attack["adversarial"]),
            heat["clean"],
            heat["adversarial"],
            p.topk,
        )  # fmt: skip
    )
    log.info("%s n=%d layer %d: %d rows", run["attack"], run["n"], run["layer"], len(frames[-1]))
io.save_csv(pd.concat(frames, ignore_index=True), snakemake.output.robustness)
