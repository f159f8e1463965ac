"""Per-point robustness metrics of explanations and predictions."""

from __future__ import annotations

import torch


def topk_indices(heatmaps: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the k largest (signed) relevance values per heatmap, [N, k].

    A stable descending sort breaks ties by pixel index, so equal relevance values (e.g.
    a blank background) rank the same way on every run.
    """
    flat = heatmaps.flatten(1)
    if not 0 < k <= flat.shape[1]:
        raise ValueError(f"k = {k} must be between 1 and the {flat.shape[1]} pixels of a heatmap")
    return torch.sort(flat, dim=1, descending=True, stable=True).indices[:, :k]


def all_zero(heatmaps: torch.Tensor) -> torch.Tensor:
    """Points whose heatmap carries no relevance at all, [N] bool."""
    return heatmaps.flatten(1).eq(0).all(1)


def lrp_robustness(clean: torch.Tensor, adversarial: torch.Tensor, k: int) -> torch.Tensor:
    """|Topk(R(x)) ∩ Topk(R(x_adv))| / k per point, [N].

    Top-k is undefined for an all-zero heatmap (every pixel ties), so a point whose clean
    or adversarial heatmap is all zero gets NaN instead of an overlap of tie-broken indices.
    """
    a, b = topk_indices(clean, k), topk_indices(adversarial, k)
    overlap = (a.unsqueeze(2) == b.unsqueeze(1)).any(2).sum(1).to(torch.float64) / k
    return overlap.masked_fill(all_zero(clean) | all_zero(adversarial), float("nan"))


def softmax_robustness(p_clean: torch.Tensor, p_adv: torch.Tensor) -> torch.Tensor:
    """1 - max_c |p(c|x) - p(c|x_adv)| per point, [N]."""
    return 1.0 - (p_clean - p_adv).abs().amax(1)
