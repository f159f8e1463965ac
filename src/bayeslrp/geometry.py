"""The study's mechanism (Section 3.2), measured: how much of an input gradient, or of an
LRP heatmap, points off the data manifold, for single nets and for posterior means.

The study argues that in the large-data limit the posterior average cancels the
components of the input gradient normal to the data manifold, so that Bayesian
explanations move little under attacks (which exploit those directions). Here the
manifold's tangent space at a test point is estimated by local PCA of its nearest training
images (Euclidean in pixel space), its dimension the fewest principal directions that
explain `variance` of the neighbours' spread; a vector's *normal fraction* is the share of
its squared norm outside that space (1: wholly normal, 0: wholly tangent). An isotropic
random direction has expected normal fraction 1 - d / D, reported beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from bayeslrp.posterior import Posterior


def nearest_neighbours(
    x: torch.Tensor, train: torch.Tensor, k: int, chunk: int = 256
) -> torch.Tensor:
    """Indices [N, k] of the k training rows nearest (Euclidean) to each row of x [N, D]."""
    out = []
    for start in range(0, len(x), chunk):
        distances = torch.cdist(x[start : start + chunk], train)
        out.append(distances.topk(k, largest=False).indices)
    return torch.cat(out)


def tangent_bases(
    x: torch.Tensor, train: torch.Tensor, neighbours: int, variance: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Local PCA at each point: (bases [N, D, d_max] float64 with orthonormal columns, zero
    beyond a point's own dimension; dims [N]). The neighbours are centred on their mean; d is the
    fewest directions whose share of their squared spread reaches `variance`."""
    index = nearest_neighbours(x.to(train.dtype), train, neighbours)
    patches = train[index].double()  # [N, k, D]; the search stays in train's precision
    centred = patches - patches.mean(1, keepdim=True)
    _, singular, vh = torch.linalg.svd(centred, full_matrices=False)  # vh [N, k, D]
    share = (singular**2).cumsum(-1) / (singular**2).sum(-1, keepdim=True)
    dims = (share < variance - 1e-12).sum(-1) + 1
    keep = torch.arange(vh.shape[1]) < dims[:, None]  # [N, k]
    bases = (vh * keep[..., None]).transpose(1, 2)  # [N, D, k]
    return bases[..., : int(dims.max())], dims


def normal_fraction(vectors: torch.Tensor, bases: torch.Tensor) -> torch.Tensor:
    """1 - |U^T v|^2 / |v|^2 per point: vectors [..., N, D], bases [N, D, d] orthonormal
    (zero columns allowed). A zero vector has no direction: NaN."""
    tangent = torch.einsum("...nd,ndk->...nk", vectors, bases).pow(2).sum(-1)
    norm = vectors.pow(2).sum(-1)
    return torch.where(norm > 0, 1 - tangent / norm, torch.nan)


def logit_gradients(posterior: Posterior, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """d logit_target(x; w_s) / dx for every draw s and point: [S, N, *x.shape[1:]] (each
    draw gets its own copy of x, so one backward pass gives every draw's gradient)."""
    inputs = x.detach().expand(len(posterior), *x.shape).clone().requires_grad_(True)
    logits = posterior.logits(inputs, per_sample_inputs=True)  # [S, N, classes]
    selected = logits.gather(-1, target.expand(len(posterior), -1).unsqueeze(-1))
    (gradients,) = torch.autograd.grad(selected.sum(), inputs)
    return gradients


def prefix_means(draws: torch.Tensor, counts: list[int]) -> dict[int, torch.Tensor]:
    """{n: mean of the first n draws} for each n in counts (draws [S, ...])."""
    total = draws.cumsum(0)
    return {n: total[n - 1] / n for n in counts}


def probe(
    vectors: dict[str, torch.Tensor], bases: torch.Tensor, dims: torch.Tensor,
    counts: list[int],
) -> pd.DataFrame:  # fmt: skip
    """Rows (quantity, n_samples, point, normal_fraction, tangent_dim,
    random_normal_fraction) for per-draw vectors {quantity: [S, N, ...]}, each averaged over
    the first n draws for n in counts."""
    size = bases.shape[1]
    frames = []
    for quantity, draws in vectors.items():
        flat = draws.flatten(2).double()
        for n, mean in prefix_means(flat, counts).items():
            frames.append(pd.DataFrame({
                "quantity": quantity, "n_samples": n, "point": np.arange(len(dims)),
                "normal_fraction": normal_fraction(mean, bases.double()).numpy(),
                "tangent_dim": dims.numpy(),
                "random_normal_fraction": 1 - dims.double().numpy() / size,
            }))  # fmt: skip
    return pd.concat(frames, ignore_index=True)
