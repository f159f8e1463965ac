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

from bayeslrp.heatmaps import check_layer, start_unit, times_input_gradient
from bayeslrp.posterior import Posterior


class _Score(nn.Module):
    """`forward(x)`: the explained unit of `model` at `layer`, summed over images."""

    def __init__(self, model, layer, target, inner_start):
        super().__init__()
        self.model, self.settings = model, (layer, target, inner_start)

    def forward(self, x):
        layer, target, inner_start = self.settings
        z = self.model[: layer + 1](x)
        is_output = layer == len(self.model) - 1
        activation = None if is_output else self.model[layer + 1](z).flatten(1)
        unit = start_unit(z, activation, target, inner_start)
        if unit is None:  # all_units: the sum of the layer's activations
            return activation.sum()
        return z.flatten(1).gather(1, unit.view(-1, 1)).sum()


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
