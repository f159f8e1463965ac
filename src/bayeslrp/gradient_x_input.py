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

from bayeslrp.heatmaps import UnitScore, check_layer, times_input_gradient
from bayeslrp.posterior import Posterior


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
    score = UnitScore(posterior.network, layer, target, inner_start)
    return times_input_gradient(posterior, x, score, chunk)
