"""Per-point robustness metrics of explanations and predictions."""

from __future__ import annotations

from collections.abc import Iterable

import torch

TOPK_MODES = ("signed", "absolute", "split")


def _descending(values: torch.Tensor, k: int) -> torch.Tensor:
    # A stable sort breaks ties by pixel index, so equal relevance values (e.g. a blank
    # background) rank the same way on every run.
    return torch.sort(values, dim=1, descending=True, stable=True).indices[:, :k]


def topk_indices(heatmaps: torch.Tensor, k: int, mode: str = "signed") -> torch.Tensor:
    """Indices of the k top-ranked pixels per heatmap, [N, k].

    signed = the k largest relevance values; absolute = the k largest |relevance|;
    split = the k // 2 largest and the k - k // 2 most negative values (the study's
    reference code). The two halves of `split` never share a pixel while k <= pixels.
    """
    flat = heatmaps.flatten(1)
    if not 0 < k <= flat.shape[1]:
        raise ValueError(f"k = {k} must be between 1 and the {flat.shape[1]} pixels of a heatmap")
    if mode == "signed":
        return _descending(flat, k)
    if mode == "absolute":
        return _descending(flat.abs(), k)
    if mode == "split":
        positive = _descending(flat, k // 2)
        return torch.cat([positive, _descending(-flat, k - k // 2)], dim=1)
    raise ValueError(f"unknown lrp.topk_mode {mode!r}; choose from {TOPK_MODES}")


def all_zero(heatmaps: torch.Tensor) -> torch.Tensor:
    """Points whose heatmap carries no relevance at all, [N] bool."""
    return heatmaps.flatten(1).eq(0).all(1)


def lrp_robustness(
    clean: torch.Tensor, adversarial: torch.Tensor, k: int, mode: str = "signed"
) -> torch.Tensor:
    """|Topk(R(x)) ∩ Topk(R(x_adv))| / k per point, [N].

    Top-k is undefined for an all-zero heatmap (every pixel ties), so a point whose clean
    or adversarial heatmap is all zero gets NaN instead of an overlap of tie-broken indices.
    """
    a, b = topk_indices(clean, k, mode), topk_indices(adversarial, k, mode)
    overlap = (a.unsqueeze(2) == b.unsqueeze(1)).any(2).sum(1).to(torch.float64) / k
    return overlap.masked_fill(all_zero(clean) | all_zero(adversarial), float("nan"))


def mean_sample_robustness(
    pairs: Iterable[tuple[torch.Tensor, torch.Tensor]], ks: list[int], mode: str = "signed"
) -> torch.Tensor:
    """Mean over posterior samples of each sample's own LRP robustness, [len(ks), N].

    `pairs` yields (clean, adversarial) per-sample heatmaps [S_chunk, N, ...], so the
    samples never need to be in memory at once. Samples whose heatmap is all zero (NaN
    robustness) are left out of a point's mean; a point with none left gets NaN.
    """
    total, count = None, None
    for clean, adversarial in pairs:
        per_sample = list(zip(clean, adversarial, strict=True))
        scores = torch.stack(  # [len(ks), S_chunk, N]
            [torch.stack([lrp_robustness(c, a, k, mode) for c, a in per_sample]) for k in ks]
        )
        valid = ~scores.isnan()
        part, seen = scores.nan_to_num(0.0).sum(1), valid.sum(1)
        total = part if total is None else total + part
        count = seen if count is None else count + seen
    if total is None:
        raise ValueError("no posterior samples to average over")
    return total / count  # 0 / 0 = NaN where every sample was all zero


def perturbed(x: torch.Tensor, x_adv: torch.Tensor, tolerance: float = 1e-6) -> torch.Tensor:
    """Inputs the attack actually moved (max |x_adv - x| above `tolerance`), [N] bool.

    A masked gradient leaves the input unchanged, and an unchanged input scores a trivial
    robustness of 1; statistics on perturbed points only are immune to that.
    """
    return (x_adv - x).flatten(1).abs().amax(1) > tolerance


def softmax_robustness(p_clean: torch.Tensor, p_adv: torch.Tensor) -> torch.Tensor:
    """1 - max_c |p(c|x) - p(c|x_adv)| per point, [N]."""
    return 1.0 - (p_clean - p_adv).abs().amax(1)
