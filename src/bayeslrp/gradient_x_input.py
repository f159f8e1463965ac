"""Gradient x input: x times the gradient of the explained unit, one heatmap per sample.

The explained unit is the one epsilon-LRP starts from (output layer: the target logit;
inner layer, `inner_start`: the pre-activation of the most active unit, or the sum of the
layer's activations). For these piecewise-linear nets it is LRP-0 (the epsilon rule at
epsilon = 0) started from the unit's value instead of from relevance 1: per image, the
epsilon-LRP map at epsilon -> 0 times that value, so it flips sign where the explained
logit is negative (tests/test_explainers.py checks that, and captum's InputXGradient).
"""

from __future__ import annotations

import torch
from torch import nn

from bayeslrp.heatmaps import check_layer, times_input_gradient
from bayeslrp.posterior import Posterior


class _Score(nn.Module):
    """`forward(x)`: the explained unit of `model` at `layer`, summed over images."""

    def __init__(self, model, layer, target, inner_start):
        super().__init__()
        self.model, self.settings = model, (layer, target, inner_start)

    def forward(self, x):
        layer, target, inner_start = self.settings
        z = self.model[: layer + 1](x)
        flat = z.flatten(1)
        if layer == len(self.model) - 1:  # output layer: the target logit
            unit = flat.detach().argmax(1) if target is None else target
            return flat.gather(1, unit.view(-1, 1)).sum()
        activation = self.model[layer + 1](z).flatten(1)
        if inner_start == "max_unit":
            return flat.gather(1, activation.detach().argmax(1).view(-1, 1)).sum()
        if inner_start == "all_units":
            return activation.sum()
        raise ValueError(f"unknown inner_start {inner_start!r}; choose max_unit or all_units")


def sample_heatmaps(
    posterior: Posterior,
    x: torch.Tensor,
    *,
    layer: int,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
    chunk: int = 8,
) -> torch.Tensor:
    """Per-sample gradient x input [S, N, ...] explaining `layer` (see the module doc)."""
    check_layer(posterior.network, layer)
    score = _Score(posterior.network, layer, target, inner_start)
    return times_input_gradient(posterior, x, score, chunk)
