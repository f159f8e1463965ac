"""The `noise` attack: uniform noise in the L-inf ball, no gradient at all.

The gradient-free control of the masking checklist (Carlini et al. 2019): explanations
that stay stable under an attack but not under random noise of the same size were not
robust, the attack failed; a net whose accuracy drops more under noise than under a
gradient attack has masked gradients.
"""

from __future__ import annotations

import torch

from bayeslrp.metrics import perturbed
from bayeslrp.posterior import Posterior


def noise_attack(
    posterior: Posterior,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epsilon: float,
    generator: torch.Generator | None = None,
    **_shared,  # the gradient attacks' shared settings (bayes, loss, chunk): unused
) -> dict[str, torch.Tensor]:
    """x plus uniform noise in [-epsilon, epsilon] per pixel, clipped to [0, 1]. The
    attack starts at x; `moved` marks inputs the noise changed (all but blank ones at the
    clip); no gradient is taken, so the zero-gradient flags are False."""
    delta = (2 * torch.rand(x.shape, generator=generator, dtype=x.dtype) - 1).to(x.device)
    adversarial = (x + epsilon * delta).clamp(0.0, 1.0)
    moved = perturbed(x, adversarial)
    no_gradient = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    return {"adversarial": adversarial, "start": x, "moved": moved,
            "zero_gradient_start": no_gradient, "zero_gradient_last": no_gradient}  # fmt: skip
