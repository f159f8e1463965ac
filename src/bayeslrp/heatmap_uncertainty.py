"""How much a posterior's draws disagree about a heatmap (Bykov et al. 2020, "How much can I
trust you? Quantifying uncertainties in explaining neural networks").

Inputs are the mean heatmap over a posterior's n draws and the per-pixel standard
deviation of the draws' heatmaps (heatmaps.heatmap_moments), [N, ...] each. Two numbers
per test point:

- relative_spread: sum of the per-pixel std over sum of |mean relevance|. 0 for a single
  network; 1 means the draws scatter as much as the explanation they average.
- uncertain_topk: the share of the mean heatmap's top-k pixels whose std exceeds their
  |mean relevance|, i.e. whose sign one standard deviation does not settle.
"""

from __future__ import annotations

import pandas as pd
import torch

from bayeslrp.topk import topk_defined, topk_membership

SUMMARY_QUANTILES = (0.25, 0.5, 0.75)


def relative_spread(mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """sum |std| / sum |mean| per point, [N]; NaN where the mean heatmap is all zero."""
    magnitude = mean.flatten(1).abs().sum(1).double()
    spread = std.flatten(1).abs().sum(1).double()
    return torch.where(magnitude > 0, spread / magnitude, torch.nan)


def uncertain_topk(
    mean: torch.Tensor, std: torch.Tensor, k: int, mode: str = "signed"
) -> torch.Tensor:
    """Share of the mean heatmap's top-k pixels with std > |mean|, [N]; NaN where the top-k
    set is undefined (fewer than k relevant pixels, topk.topk_defined). Ties at the k-th
    value count with their share of the set (topk_membership)."""
    membership = topk_membership(mean, k, mode)
    unsettled = (std.flatten(1).abs() > mean.flatten(1).abs()).double()
    share = (membership * unsettled).sum(1) / k
    return torch.where(topk_defined(mean, k, mode), share, torch.nan)


def point_table(mean: torch.Tensor, std: torch.Tensor, k: int, mode: str) -> pd.DataFrame:
    """One row per test point: point, relative_spread, uncertain_topk."""
    return pd.DataFrame({
        "point": range(len(mean)),
        "relative_spread": relative_spread(mean, std).numpy(),
        "uncertain_topk": uncertain_topk(mean, std, k, mode).numpy(),
    })  # fmt: skip


def summary(points: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Quartiles over points of each measure, within each group of `keys` (one model, one
    dataset, one seed: unlike groups are never pooled); `points` counts the defined ones."""
    rows = []
    for values, group in points.groupby(keys, sort=False):
        for measure in ("relative_spread", "uncertain_topk"):
            defined = group[measure].dropna()
            quartiles = defined.quantile(list(SUMMARY_QUANTILES))
            rows.append({
                **dict(zip(keys, values, strict=True)), "measure": measure,
                "points": len(defined), "q25": quartiles.iloc[0], "median": quartiles.iloc[1],
                "q75": quartiles.iloc[2], "mean": defined.mean(),
            })  # fmt: skip
    return pd.DataFrame(rows)
