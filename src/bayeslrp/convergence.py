"""Convergence of an MCMC posterior judged in function space: on predictions.

Weight-space R-hat is meaningless across chains of a neural network (permutation and
sign symmetries: two chains can sit in equivalent modes with different weights); what a
chain must agree on is the function, here p(true class | x, w) on test images (Izmailov
et al., ICML 2021). Split R-hat and ESS come from `pyro.ops.stats` (pyro is already a
dependency; arviz is not): the classic split-R-hat of Gelman et al. (BDA3), not the
rank-normalised one of Vehtari et al. (2021).
"""

from __future__ import annotations

import math

import torch
from pyro.ops.stats import effective_sample_size, split_gelman_rubin

from bayeslrp.posterior import Posterior, spread_order
from bayeslrp.topk import overlap

# A chain is "not converged" on a point above this split R-hat (Gelman et al.'s rule).
RHAT_THRESHOLD = 1.1
# Test images the predictions are judged on: the first of the test split (enough for the
# distribution of per-point R-hat; a forward pass per draw is cheap next to HMC).
POINTS = 1000
# Of those, the first this many are explained per draw (LRP of every draw: S heatmaps each),
# with the study's epsilon-LRP (epsilon 0.1) and top-k (k = 10): fixed, not read from the
# explainer's settings, so that changing those does not rejudge every posterior.
HEATMAP_POINTS = 100
HEATMAP_EPSILON = 0.1
HEATMAP_K = 10


def chain_major(draws: torch.Tensor, chains: int) -> torch.Tensor:
    """[S, ...] draws stored in `posterior.spread_order` -> [chains, S / chains, ...]."""
    if len(draws) % chains:
        raise ValueError(f"{len(draws)} draws do not split into {chains} equal chains")
    per_chain = len(draws) // chains
    out = torch.empty_like(draws)
    out[spread_order(chains, per_chain)] = draws
    return out.reshape(chains, per_chain, *draws.shape[1:])


def true_class_probabilities(
    posterior: Posterior, x: torch.Tensor, y: torch.Tensor, chunk: int = 8
) -> torch.Tensor:
    """p(y | x, w_s) for every draw s and point, [S, N], float64."""
    proba = posterior.logits(x, chunk).double().softmax(-1)  # [S, N, classes]
    return proba[:, torch.arange(len(y), device=y.device), y]


def per_point_statistics(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split R-hat and ESS of each point of [chains, draws, N] values ([N] each; NaN where
    the point's value is the same in every draw, e.g. a saturated probability)."""
    if values.shape[1] < 4:
        raise ValueError(f"split R-hat needs at least 4 draws per chain, not {values.shape[1]}")
    rhat = split_gelman_rubin(values, chain_dim=0, sample_dim=1)
    defined = torch.isfinite(rhat)
    rhat = rhat.masked_fill(~defined, math.nan)
    # pyro's ESS of a constant column makes every column's ESS NaN (pyro 1.9): computed on
    # the defined points alone.
    ess = torch.full_like(rhat, math.nan)
    if defined.any():
        ess[defined] = effective_sample_size(values[..., defined], chain_dim=0, sample_dim=1)
    return rhat, ess


def function_space_statistics(values: torch.Tensor) -> dict[str, float]:
    """Split R-hat and ESS per point of [chains, draws, N] values, summarised over points.

    A point whose value is the same in every draw (a saturated probability) has no
    variance: its R-hat is undefined and left out (`fs_points` counts the defined ones).
    """
    rhat, ess = per_point_statistics(values)
    defined = torch.isfinite(rhat)
    stats = {"fs_chains": values.shape[0], "fs_points": int(defined.sum())}
    keys = ("fs_rhat_median", "fs_rhat_max", "fs_rhat_above_threshold_fraction",
            "fs_ess_min", "fs_ess_median")  # fmt: skip
    if not defined.any():
        return {**stats, **dict.fromkeys(keys, math.nan)}
    rhat, ess = rhat[defined], ess[defined]
    summaries = (rhat.quantile(0.5), rhat.max(), (rhat > RHAT_THRESHOLD).double().mean(),
                 ess.min(), ess.quantile(0.5))  # fmt: skip
    return {**stats, **{key: v.item() for key, v in zip(keys, summaries, strict=True)}}


def heatmap_agreement(heatmaps: torch.Tensor, k: int) -> torch.Tensor:
    """Each draw's top-k overlap with the mean heatmap over all draws: [S, N] heatmaps of
    S draws -> [S, N] float64. The quantity under study (the top-k overlap of LRP heatmaps)
    as a scalar per draw and point, so that chains can be compared on it; a point whose top
    k is undefined (fewer than k relevant pixels) gets NaN."""
    mean = heatmaps.double().mean(0)
    return torch.stack([overlap(draw.double(), mean, k) for draw in heatmaps])


def heatmap_space_statistics(values: torch.Tensor) -> dict[str, float]:
    """`function_space_statistics` of [chains, draws, N] heatmap agreements, keys `hs_*`."""
    values = values.nan_to_num(0.0)  # an undefined top-k is constant 0: left out as no variance
    stats = function_space_statistics(values)
    return {"hs_" + key.removeprefix("fs_"): value for key, value in stats.items()}


def trace_points(rhat: torch.Tensor, count: int = 4) -> list[int]:
    """Points whose traces a figure shows: the lowest, median, 90th-percentile and highest
    defined R-hat (`count` evenly spaced ranks from lowest to highest)."""
    defined = torch.isfinite(rhat).nonzero().flatten()
    if not len(defined):
        return []
    ranked = defined[rhat[defined].argsort()]
    positions = torch.linspace(0, len(ranked) - 1, min(count, len(ranked))).round().long()
    return ranked[positions.unique()].tolist()
