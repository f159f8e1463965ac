"""Per-point measures of an attack and of the predictions: did it move the input, how much
did the probabilities change. The explanation metrics are in explanation_metrics.py."""

from __future__ import annotations

import torch


def perturbed(x: torch.Tensor, x_adv: torch.Tensor, tolerance: float = 1e-6) -> torch.Tensor:
    """Inputs moved from x to x_adv (max |x_adv - x| above `tolerance`), [N] bool; the
    attacks measure their own movement with it, from their starting point.

    A masked gradient leaves the input unchanged, and an unchanged input scores a trivial
    robustness of 1; statistics on perturbed points only are immune to that.
    """
    return (x_adv - x).flatten(1).abs().amax(1) > tolerance


def project(x_adv: torch.Tensor, x: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Nearest point of the L-inf ball of radius epsilon around x that lies in [0, 1]."""
    return torch.minimum(torch.maximum(x_adv, x - epsilon), x + epsilon).clamp(0.0, 1.0)


def softmax_robustness(p_clean: torch.Tensor, p_adv: torch.Tensor) -> torch.Tensor:
    """1 - max_c |p(c|x) - p(c|x_adv)| per point, [N]."""
    return 1.0 - (p_clean - p_adv).abs().amax(1)
