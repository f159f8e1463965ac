"""Adversarial attacks in the L-inf ball, against a posterior of S weight samples.

Against a Bayesian net the attack follows the expected loss gradient over the samples,
computed in one vectorised pass (`posterior.stacked_logits`); a deterministic net is S = 1.
"""

from __future__ import annotations

import torch
from torch import nn

from bayeslrp.posterior import stacked_logits

ATTACKS = ("fgsm",)


def expected_loss_gradient(
    model: nn.Module, posterior: dict[str, torch.Tensor], x: torch.Tensor, y: torch.Tensor
) -> torch.Tensor:
    """Gradient w.r.t. `x` of the cross-entropy averaged over posterior samples."""
    x = x.detach().requires_grad_(True)
    logits = stacked_logits(model, posterior, x)  # [S, N, 10]
    loss = nn.functional.cross_entropy(logits.flatten(0, 1), y.repeat(logits.shape[0]))
    (grad,) = torch.autograd.grad(loss, x)
    return grad


def fgsm(
    model: nn.Module,
    posterior: dict[str, torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    epsilon: float,
    batch_size: int = 500,
) -> torch.Tensor:
    """Fast gradient sign method: x + epsilon * sign(grad), clipped to [0, 1]."""
    out = []
    for i in range(0, len(x), batch_size):
        xb, yb = x[i : i + batch_size], y[i : i + batch_size]
        grad = expected_loss_gradient(model, posterior, xb, yb)
        out.append((xb + epsilon * grad.sign()).clamp(0.0, 1.0).detach())
    return torch.cat(out)
