"""Gradient-masking diagnostics: does an attack fail because the net is robust, or because
its loss gradient vanished?

A net whose softmax saturates (weights left at the prior's scale, huge logits) has an
exactly zero cross-entropy gradient: a gradient attack then leaves the input unchanged and
every robustness score is a trivial 1. These numbers, per model, n and attack, tell the
two apart.
"""

from __future__ import annotations

import torch

from bayeslrp.attacks import loss_gradient
from bayeslrp.models import LEARNABLE_LAYERS
from bayeslrp.posterior import Posterior

SATURATION = 0.999  # a per-sample top probability above this counts as saturated


@torch.no_grad()
def _logit_statistics(posterior: Posterior, x, chunk, batch_size=500) -> tuple[float, float]:
    saturated, magnitude, count = 0.0, 0.0, 0
    for i in range(0, len(x), batch_size):
        logits = posterior.logits(x[i : i + batch_size], chunk)  # [S, n, C]
        saturated += (logits.softmax(-1).amax(-1) > SATURATION).double().sum().item()
        magnitude += logits.abs().double().mean(-1).sum().item()
        count += logits.shape[0] * logits.shape[1]
    return saturated / count, magnitude / count


def gradient_masking(
    posterior: Posterior,
    x: torch.Tensor,
    y: torch.Tensor,
    loss: str = "cross_entropy",
    chunk: int = 16,
    batch_size: int = 100,
) -> dict[str, float]:
    """Fraction of inputs whose loss gradient (the attack's loss, expected over the samples,
    at the clean input) is exactly zero; fraction of per-sample top probabilities above
    SATURATION and mean |logit| on the clean inputs. (The fraction of inputs the attack left
    unchanged is in `attack_evaluation.attack_summary`.)"""
    zero = 0
    for i in range(0, len(x), batch_size):
        grad = loss_gradient(posterior, x[i : i + batch_size], y[i : i + batch_size],
                             chunk=chunk, loss=loss)  # fmt: skip
        zero += grad.flatten(1).eq(0).all(1).sum().item()
    saturated, logit_abs = _logit_statistics(posterior, x, chunk)
    return {
        "zero_gradient_fraction": zero / len(x),
        "saturated_fraction": saturated,
        "logit_abs_mean": logit_abs,
    }


def weight_magnitude(posterior: dict[str, torch.Tensor], arch: str) -> dict[int, float]:
    """Mean |w| of each learnable layer's weights over all samples (biases left out)."""
    return {
        layer: posterior[f"{layer}.weight"].abs().double().mean().item()
        for layer in LEARNABLE_LAYERS[arch]
    }
