"""Top-k overlap of a clean and an adversarial heatmap: the study's explanation metric.

One of the explanation metrics of explanation_metrics.REGISTRY (config
`metrics.topk_overlap`): its rows in the tables are labelled `names.topk_label(k)`, one
per k.
"""

from __future__ import annotations

import torch

from bayeslrp.names import topk_label

TOPK_MODES = ("signed", "absolute", "split")


def _halves(k: int, mode: str) -> list[tuple[int, int]]:
    """(sign, size) of the parts of a top-k set: the k largest values of sign * heatmap."""
    if mode == "signed":
        return [(1, k)]
    if mode == "absolute":
        return [(0, k)]  # sign 0 = |heatmap|
    if mode == "split":
        return [(s, n) for s, n in ((1, k // 2), (-1, k - k // 2)) if n]
    raise ValueError(f"unknown metrics.topk_overlap.mode {mode!r}; choose from {TOPK_MODES}")


def _check_k(flat: torch.Tensor, k: int) -> None:
    if not 0 < k <= flat.shape[1]:
        raise ValueError(f"k = {k} must be between 1 and the {flat.shape[1]} pixels of a heatmap")


def _ranked(flat: torch.Tensor, sign: int) -> torch.Tensor:
    return flat.abs() if sign == 0 else sign * flat


def relevant_pixels(heatmaps: torch.Tensor, mode: str = "signed") -> torch.Tensor:
    """Pixels that qualify for a top-k set of `mode`, [N, P] bool: strictly positive for
    `signed`, nonzero for `absolute` and `split` (positive or negative half)."""
    flat = heatmaps.flatten(1)
    relevant = torch.zeros_like(flat, dtype=torch.bool)
    for sign, _ in _halves(2, mode):  # the signs of the parts, whatever k
        relevant |= _ranked(flat, sign) > 0
    return relevant


def topk_defined(heatmaps: torch.Tensor, k: int, mode: str = "signed") -> torch.Tensor:
    """Points whose heatmap has at least k pixels that qualify for the top-k, [N] bool.

    A pixel qualifies when it carries relevance of the ranked kind: strictly positive for
    `signed`, nonzero for `absolute`, and for `split` k // 2 strictly positive and
    k - k // 2 strictly negative pixels. Below that, top-k would reach into the plateau of
    exactly-zero pixels (background, or outside an inner unit's receptive field) and count
    pixels that neither heatmap marks as relevant: the overlap is then undefined.
    """
    flat = heatmaps.flatten(1)
    _check_k(flat, k)
    defined = torch.ones(len(flat), dtype=torch.bool, device=flat.device)
    for sign, size in _halves(k, mode):
        defined &= (_ranked(flat, sign) > 0).sum(1) >= size
    return defined


def topk_membership(heatmaps: torch.Tensor, k: int, mode: str = "signed") -> torch.Tensor:
    """Probability that each pixel is in the top-k set when ties are broken at random, [N, P].

    Pixels above the k-th largest value have 1; the m pixels tied with it share the
    remaining r slots, r / m each; every row sums to k. Scores built on it are the
    expected overlap under uniformly random tie-breaking: no pixel order (index, memory
    layout) can add overlap. In `split` mode the positive and negative parts are disjoint
    wherever `topk_defined` holds.
    """
    flat = heatmaps.flatten(1)
    _check_k(flat, k)
    total = torch.zeros_like(flat, dtype=torch.float64)
    for sign, size in _halves(k, mode):
        values = _ranked(flat, sign)
        kth = values.topk(size, dim=1).values[:, -1:]
        above, tied = values > kth, values == kth
        slots = size - above.sum(1, keepdim=True)
        total += above.double() + tied.double() * slots / tied.sum(1, keepdim=True)
    return total


def overlap(
    clean: torch.Tensor, adversarial: torch.Tensor, k: int, mode: str = "signed"
) -> torch.Tensor:
    """|Topk(R(x)) ∩ Topk(R(x_adv))| / k per point, [N], float64.

    The overlap is the expected one when ties are broken at random (`topk_membership`).
    A point whose clean or adversarial heatmap has fewer than k qualifying pixels
    (`topk_defined`; an all-zero heatmap among them) gets NaN: its top-k set is undefined.
    """
    shared = (topk_membership(clean, k, mode) * topk_membership(adversarial, k, mode)).sum(1)
    defined = topk_defined(clean, k, mode) & topk_defined(adversarial, k, mode)
    return (shared / k).masked_fill(~defined, float("nan"))


def scores(
    clean: torch.Tensor, adversarial: torch.Tensor, *, k: list[int], mode: str = "signed"
) -> dict[str, torch.Tensor]:
    """The overlap at each k, labelled `topk_label(k)`: {label: [N] float64}."""
    return {topk_label(size): overlap(clean, adversarial, size, mode) for size in k}
