"""Heatmaps of every attack's adversarial test points by every explainer of one model, at
every explained layer and number of samples, beside the clean ones: a file per attack (one
job per model: the start-up of a job costs more than most of its heatmaps)."""

import time

import torch

from bayeslrp import io
from bayeslrp.explainers import bayesian_heatmaps, settings_for
from bayeslrp.models import output_layer, split_model_name
from bayeslrp.paired_heatmaps import mean_and_sample_scores
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import chunk_setting, configure_logging, job, resolve_device, set_threads

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
device = resolve_device(p.device)
arch, _ = split_model_name(w.model)
chunk = chunk_setting(snakemake, "explainers", arch, device)

full = Posterior.load(snakemake.input.weights, arch, p.hidden, device)
x = io.load_tensors(snakemake.input.points)["images"].to(device)
clean_heatmaps = io.load_tensors(snakemake.input.clean)
# The class at the clean points, for the per-sample scores: once per n, for every attack,
# explainer and layer (only where samples are scored one by one).
clean_targets = {n: full.take(n).predict_proba(x).argmax(1)
                 for n in p.n_samples if p.sample_metrics and n > 1}  # fmt: skip


def adversarial_heatmaps(name, settings, posterior, n, layer, x_adv, targets, clean_target):
    """The mean adversarial heatmap of explainer `name` over n samples and, when the
    metrics score samples one by one (mean_of_robustness), those scores; one pass
    (paired_heatmaps). `clean_target`: the class at the clean points, used with
    `targets`."""
    if not (p.sample_metrics and n > 1):  # one sample: its score is the mean heatmap's
        mean = bayesian_heatmaps(name, posterior, x_adv, layer, [n],
                                 None if targets is None else {n: targets}, **settings)[n]
        return mean.cpu(), {}  # fmt: skip
    clean_target = None if targets is None else clean_target
    mean, scores = mean_and_sample_scores(name, posterior, x, x_adv, layer, p.sample_metrics,
                                          clean_target, targets, log, **settings)  # fmt: skip
    return mean.cpu(), scores


def explain(attack, attacks, layers):
    """Every explainer's heatmaps of one attack's adversarials: {key/kind: tensor}."""
    result = {}
    for n in p.n_samples:
        posterior = full.take(n)
        x_adv = io.section(attacks, io.samples_key(n))["adversarial"].to(device)
        # The class the posterior predicts for the adversarial (explainers.target: ensemble,
        # shared by every explainer); None = each sample's own class (per_sample).
        ensemble_target = posterior.predict_proba(x_adv).argmax(1)
        clean_target = clean_targets.get(n)
        for name, given in p.explainers.items():
            settings = settings_for(name, given, snakemake.config["explainers"], chunk)
            for layer in layers:
                start = time.perf_counter()
                key = io.relevance_key(name, layer, n)
                targets = None
                if layer == output_layer(arch) and given["target"] == "ensemble":
                    targets = ensemble_target
                adversarial, scores = adversarial_heatmaps(
                    name, settings, posterior, n, layer, x_adv, targets, clean_target
                )
                clean = clean_heatmaps[key]
                for kind, heat in (("clean", clean), ("adversarial", adversarial)):
                    if not torch.isfinite(heat).all():
                        raise FloatingPointError(f"{kind} {name} heatmaps of {w.model} "
                                                 f"{attack} n={n} layer {layer} hold "
                                                 "NaN/inf")  # fmt: skip
                result[f"{key}/clean"], result[f"{key}/adversarial"] = clean, adversarial
                for label, values in scores.items():
                    result[f"{key}/{label}"] = values
                seconds = time.perf_counter() - start
                log.info("%s %s heatmaps at layer %d over %d samples, %d points: %.1f s "
                         "(%.0f heatmaps/s)", name, attack, layer, n, len(x_adv), seconds,
                         n * len(x_adv) / seconds)  # fmt: skip
    return result


for attack, adversarial, output in zip(p.attacks, snakemake.input.adversarial,
                                       snakemake.output.relevance, strict=True):  # fmt: skip
    io.save_tensors(explain(attack, io.load_tensors(adversarial), p.layers[attack]), output)
