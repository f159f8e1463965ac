"""Rank correlations (Spearman's rho, Kendall's tau-b) of a clean and an adversarial
heatmap over all pixels.

Ghorbani, Abid & Zou (AAAI 2019) report both beside top-k intersection: they compare the
whole ranking, not only the k most relevant pixels. Ties (LRP heatmaps hold many exactly
zero pixels) get their average rank for rho, as in scipy.stats.spearmanr, and tau-b's tie
correction, as scipy.stats.kendalltau's default; a heatmap with a single value has no
ranking, and the correlation is NaN (undefined), as scipy's.
"""

from __future__ import annotations

import numpy as np
import torch

MODES = ("signed", "absolute")


def average_ranks(values: torch.Tensor) -> torch.Tensor:
    """1-based ranks within each row of [N, P], ties sharing their mean rank, float64.

    A value's tied block occupies sorted positions low..high-1 (searchsorted left and
    right), so its mean 1-based rank is (low + high + 1) / 2: O(P log P) per row.
    """
    ordered = values.sort(dim=1).values.contiguous()
    values = values.contiguous()
    low = torch.searchsorted(ordered, values, right=False)
    high = torch.searchsorted(ordered, values, right=True)
    return (low + high + 1).double() / 2


def spearman(clean: torch.Tensor, adversarial: torch.Tensor, mode: str = "signed") -> torch.Tensor:
    """Spearman's rho of the pixel relevances per point, [N] float64; NaN where either
    heatmap is constant. `absolute` ranks |relevance| (Ghorbani et al.'s saliency maps)."""
    if mode not in MODES:
        raise ValueError(f"unknown metrics.spearman.mode {mode!r}; choose from {MODES}")
    a, b = clean.flatten(1), adversarial.flatten(1)
    if mode == "absolute":
        a, b = a.abs(), b.abs()
    ra, rb = average_ranks(a), average_ranks(b)
    ra, rb = ra - ra.mean(1, keepdim=True), rb - rb.mean(1, keepdim=True)
    scale = (ra.square().sum(1) * rb.square().sum(1)).sqrt()
    rho = (ra * rb).sum(1) / scale
    return rho.masked_fill(scale == 0, float("nan"))


def _tied_pairs(ordered: torch.Tensor) -> torch.Tensor:
    """Pairs of equal values within each row of [N, P] sorted rows, [N] int64: each value
    pairs with the equal values before it (searchsorted left gives the first of them)."""
    first = torch.searchsorted(ordered, ordered, right=False)
    return (torch.arange(ordered.shape[1]) - first).sum(1)


def _inversions(sequence: torch.Tensor) -> torch.Tensor:
    """Pairs j < i with sequence[j] > sequence[i] in each row of [N, P] int64, [N] int64:
    a bottom-up merge sort over every row at once. At each level the left half of every
    block is sorted, and each element of the right half is passed by the left elements
    larger than it (batched searchsorted); then the blocks are sorted for the next level.
    Rows are padded with increasing values above all others, which add no inversions."""
    n, size = sequence.shape
    width = 1 << max(size - 1, 0).bit_length()
    pad = torch.arange(size, width, dtype=sequence.dtype).expand(n, -1) + sequence.max() + 1
    sequence = torch.cat([sequence, pad], dim=1) if width > size else sequence
    count = torch.zeros(n, dtype=torch.int64)
    half = 1
    while half < width:
        blocks = sequence.reshape(n, width // (2 * half), 2, half)
        left, right = blocks[:, :, 0].reshape(-1, half), blocks[:, :, 1].reshape(-1, half)
        at_most = torch.searchsorted(left.contiguous(), right.contiguous(), right=True)
        count += (half - at_most).reshape(n, -1).sum(1)
        sequence = blocks.reshape(n, -1, 2 * half).sort(dim=-1).values.reshape(n, width)
        half *= 2
    return count


def kendall(clean: torch.Tensor, adversarial: torch.Tensor, mode: str = "signed") -> torch.Tensor:
    """Kendall's tau-b of the pixel relevances per point, [N] float64; NaN where either
    heatmap is constant. `absolute` ranks |relevance|.

    Knight's O(P log P) algorithm, as scipy.stats.kendalltau, for every point at once: rank
    both heatmaps, order the pixels by (clean, adversarial) rank, count the adversarial
    ranks' inversions (discordant pairs) and the tied pairs; then scipy's tau-b formula
    term for term (tests/test_explanation_metrics.py: bit for bit). 1.7x faster than
    scipy point by point on 100 heatmaps of 784 pixels (14 ms against 24 ms, this CPU),
    whose calls are mostly argument checks; the O(P^2) pair-sign form was 30x slower.
    """
    if mode not in MODES:
        raise ValueError(f"unknown metrics.kendall.mode {mode!r}; choose from {MODES}")
    a, b = clean.flatten(1).double().cpu(), adversarial.flatten(1).double().cpu()
    if mode == "absolute":
        a, b = a.abs(), b.abs()
    n, size = a.shape
    if not n or not size:
        return torch.full((n,), float("nan"), dtype=torch.float64)
    ordered_a, ordered_b = a.sort(dim=1).values, b.sort(dim=1).values
    # ranks with ties equal (the first sorted position of each value): 0..P-1
    rank_a = torch.searchsorted(ordered_a.contiguous(), a.contiguous(), right=False)
    rank_b = torch.searchsorted(ordered_b.contiguous(), b.contiguous(), right=False)
    joint = (rank_a * size + rank_b).sort(dim=1).values  # by clean, then adversarial rank
    discordant = _inversions(joint % size)
    total = size * (size - 1) // 2
    tie_a, tie_b, tie_both = _tied_pairs(ordered_a), _tied_pairs(ordered_b), _tied_pairs(joint)
    concordant_minus_discordant = (total - tie_a - tie_b + tie_both - 2 * discordant).numpy()
    # in numpy: its sqrt is correctly rounded, torch's CPU kernel can be 1 ulp off scipy's
    untied_a, untied_b = (total - tie_a).numpy(), (total - tie_b).numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = concordant_minus_discordant / np.sqrt(untied_a) / np.sqrt(untied_b)
    tau = torch.from_numpy(np.clip(tau, -1.0, 1.0))
    undefined = (tie_a == total) | (tie_b == total) | a.isnan().any(1) | b.isnan().any(1)
    return tau.masked_fill(undefined, float("nan"))


def scores(
    clean: torch.Tensor, adversarial: torch.Tensor, *, mode: str = "signed"
) -> dict[str, torch.Tensor]:
    """{"spearman": [N] float64}."""
    return {"spearman": spearman(clean, adversarial, mode)}


def kendall_scores(
    clean: torch.Tensor, adversarial: torch.Tensor, *, mode: str = "signed"
) -> dict[str, torch.Tensor]:
    """{"kendall": [N] float64}."""
    return {"kendall": kendall(clean, adversarial, mode)}
