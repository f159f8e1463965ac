"""One pass over a posterior's samples for an attack's heatmaps: the mean adversarial
heatmap and, under metrics.bayes_robustness: mean_of_robustness, each sample's clean and
adversarial heatmaps scored alone.

The mean is summed from the very per-sample heatmaps that are scored, so an attack's
heatmaps over n samples cost 2n per-sample heatmaps, not the 3n of computing the mean
(`explainers.bayesian_heatmaps`) and the scored pairs separately.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import torch

from bayeslrp.explainers import sample_heatmaps
from bayeslrp.explanation_metrics import SAMPLE_PREFIX, mean_over_samples
from bayeslrp.posterior import Posterior


def mean_and_sample_scores(
    explainer: str,
    posterior: Posterior,
    x: torch.Tensor,
    x_adv: torch.Tensor,
    layer: int,
    metrics: Mapping[str, dict],
    clean_target: torch.Tensor | None = None,
    adversarial_target: torch.Tensor | None = None,
    log: logging.Logger | None = None,
    **settings,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """(mean adversarial heatmap over all of `posterior`'s samples, on x_adv's device;
    {SAMPLE_PREFIX + label: [N] float32} the mean over samples of each sample's own
    score of `metrics`, computed on the CPU as `explanation_metrics.mean_over_samples`).

    Targets as in `heatmaps.heatmap_moments` (None: each sample's own prediction). The
    running sum adds the chunks in heatmap_moments' order, so the mean is the same.
    """
    n = len(posterior)
    total = 0  # the adversarial heatmaps' running sum

    def pairs():
        nonlocal total
        for start, part in posterior.chunks(settings["chunk"]):
            clean, adversarial = (
                sample_heatmaps(explainer, part, inputs, layer=layer, target=target,
                                **settings)
                for inputs, target in ((x, clean_target), (x_adv, adversarial_target))
            )  # fmt: skip
            total = total + adversarial.sum(0)
            if log is not None:
                log.info("scored samples %d-%d of %d one by one", start, start + len(part), n)
            yield clean.cpu(), adversarial.cpu()

    scores = mean_over_samples(pairs(), metrics)
    labelled = {SAMPLE_PREFIX + label: values.float() for label, values in scores.items()}
    return total / n, labelled
