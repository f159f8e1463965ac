"""Weight-noise averaging around the deterministic net (NoiseGrad; Bykov et al., AAAI 2022).

Each sample is the deterministic net with every parameter multiplied by independent
N(1, scale^2) noise: w_s = w * (1 + scale * eps_s). Averaging heatmaps or predictions over
such samples smooths them the way a posterior average would, but the samples are not a
posterior (nothing was inferred from data): the second control of "is it Bayes, or mere
averaging?". NoiseGrad perturbs the weights; we perturb biases too, so that every
parameter of the stack varies as it does under VI and HMC.
"""

from __future__ import annotations

import torch

from bayeslrp.posterior import Posterior


def perturb(
    weights: dict[str, torch.Tensor], scale: float, samples: int, generator: torch.Generator
) -> dict[str, torch.Tensor]:
    """`samples` noisy copies of one net: {name: [samples, ...]} with w * (1 + scale eps).

    Parameters are visited in sorted name order, so the draws depend on the seed alone.
    """
    out = {}
    for name in sorted(weights):
        w = weights[name]
        eps = torch.randn((samples, *w.shape), generator=generator, dtype=w.dtype)
        out[name] = w.unsqueeze(0) * (1 + scale * eps.to(w.device))
    return out


def fit(build, train, base, settings, *, generator, device):
    """n_samples noisy copies of the deterministic net `base` (inference.fit's signature)."""
    if base is None or len(base) != 1:
        raise ValueError("weight_noise starts from one deterministic net (a posterior with S = 1)")
    scale, samples = settings["weight_noise"]["scale"], settings["n_samples"]
    base = base.to("cpu")
    stack = perturb(base.sample(0), scale, samples, generator)
    summary = {"statistics": {"scale": scale, "samples": samples}}
    return Posterior(base.network, stack), summary
