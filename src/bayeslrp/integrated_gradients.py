"""Integrated gradients (Sundararajan, Taly & Yan, ICML 2017), one heatmap per sample.

IG(x) = (x - x0) * integral over a in [0, 1] of d score(x0 + a (x - x0)) / dx, with the
black image x0 = 0 as the baseline (captum's default) and `steps`-point Gauss-Legendre
quadrature on [0, 1] (captum's default method). The explained unit is gradient x input's
and LRP's (heatmaps.start_unit), chosen once at x itself, not anew at every point of the
path: the integral is of one fixed function. The quadrature points go through the nets as
one stacked batch, vectorised over the posterior samples (heatmaps.fixed_unit_gradients),
so the Bayesian mean costs `steps` backward passes per sample, like `steps` gradient x
input maps, in one call.
"""

from __future__ import annotations

import numpy as np
import torch

from bayeslrp.heatmaps import check_layer, fixed_unit_gradients
from bayeslrp.posterior import Posterior


def gauss_legendre(steps: int) -> tuple[list[float], list[float]]:
    """Nodes and weights of `steps`-point Gauss-Legendre quadrature on [0, 1]."""
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    return ((nodes + 1) / 2).tolist(), (weights / 2).tolist()


def sample_heatmaps(
    posterior: Posterior,
    x: torch.Tensor,
    *,
    layer: int,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
    chunk: int = 8,
    steps: int = 16,
) -> torch.Tensor:
    """Per-sample integrated gradients [S, N, ...] explaining `layer` (see the module doc)."""
    check_layer(posterior.network, layer)
    x = x.detach()
    nodes, weights = gauss_legendre(steps)
    path = [(w, a * x) for a, w in zip(nodes, weights, strict=True)]
    return fixed_unit_gradients(posterior, x, path, layer=layer, target=target,
                                inner_start=inner_start, chunk=chunk) * x  # fmt: skip
