"""Trivial explanations that an LRP robustness score should beat: the input itself as the
heatmap, a random heatmap, and plain gradient x input. Same points, same metric."""

from __future__ import annotations

import torch

from bayeslrp.gradient_x_input import sample_heatmaps
from bayeslrp.heatmaps import mean_heatmaps
from bayeslrp.posterior import Posterior


def gradient_x_input(
    posterior: Posterior, x: torch.Tensor, target: torch.Tensor, chunk: int = 8
) -> torch.Tensor:
    """x times the gradient of the `target` logit, averaged over posterior samples, [N, ...]
    (the `gradient_x_input` explainer at the output layer)."""
    n, layer = len(posterior), len(posterior.network) - 1
    return mean_heatmaps(sample_heatmaps, posterior, x, layer, [n], {n: target}, chunk)[n]


def baseline_heatmaps(
    posterior: Posterior,
    x: torch.Tensor,
    x_adv: torch.Tensor,
    gradient_clean: torch.Tensor,
    target_adv: torch.Tensor,
    generator: torch.Generator,
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """(clean, adversarial) heatmaps of each baseline. `gradient_clean` is gradient_x_input
    of the clean points (the same for every attack: the workflow computes it once per
    model). The random heatmaps are independent draws for the clean and the adversarial
    input: their top-k overlap is chance, k / pixels."""
    noise = torch.rand((2, *x.shape), generator=generator).to(x)
    return {
        "input": (x, x_adv),
        "random": (noise[0], noise[1]),
        "gradient_x_input": (gradient_clean, gradient_x_input(posterior, x_adv, target_adv)),
    }
