"""How well a predictive distribution is calibrated: negative log likelihood, Brier score
and expected calibration error of mean softmax probabilities [N, C] against labels [N]."""

from __future__ import annotations

import torch

ECE_BINS = 15  # equal-width confidence bins (Guo et al. 2017)


def nll(proba: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean -log p(label); probabilities are clamped at the smallest positive float so a
    confidently wrong prediction costs a large but finite amount."""
    p = proba.double().gather(1, labels.view(-1, 1)).squeeze(1)
    return -p.clamp_min(torch.finfo(torch.float64).tiny).log().mean().item()


def brier(proba: torch.Tensor, labels: torch.Tensor) -> float:
    """Mean over points of sum_c (p_c - [c = label])^2 (0 perfect, 2 worst)."""
    onehot = torch.nn.functional.one_hot(labels, proba.shape[1]).double()
    return (proba.double() - onehot).pow(2).sum(1).mean().item()


def ece(proba: torch.Tensor, labels: torch.Tensor, bins: int = ECE_BINS) -> float:
    """Expected calibration error: sum over equal-width bins of the top-class confidence of
    (points in the bin / N) * |accuracy - mean confidence| in the bin."""
    confidence, predicted = proba.double().max(1)
    correct = (predicted == labels).double()
    # bin b holds confidences in (b / bins, (b + 1) / bins]; confidence 0 cannot occur
    index = (confidence * bins).ceil().long().clamp(1, bins) - 1
    count = torch.zeros(bins, dtype=torch.float64).index_add_(0, index, torch.ones_like(correct))
    gap = torch.zeros(bins, dtype=torch.float64).index_add_(0, index, correct - confidence)
    return (gap.abs().sum() / len(labels)).item() if count.sum() else float("nan")
