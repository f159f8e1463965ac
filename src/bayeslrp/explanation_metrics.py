"""The explanation metrics: how much an attack changed a heatmap, per test point.

A metric scores a clean against an adversarial heatmap, point by point:
`fn(clean [N, ...], adversarial [N, ...], **settings) -> {label: scores [N] float64}`,
its settings being its block of the config (`metrics.<name>`). A metric may give several
labelled rows (top-k: one per k); labels are the tables' `metric` column and must be
unique across the metrics of a run. NaN marks a point whose score is undefined (a top-k
reaching into exactly-zero pixels, a constant heatmap's ranks); the tables count those.
Adding one: a module with its `scores` function, an entry here, its name in
names.METRICS, a schema block and a test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import torch

from bayeslrp import rank_correlation, topk

# Key prefix of the per-sample mean scores in a relevance artifact
# (metrics.bayes_robustness: mean_of_robustness).
SAMPLE_PREFIX = "sample_mean_"

Metric = Callable[..., dict[str, torch.Tensor]]

REGISTRY: dict[str, Metric] = {
    "topk_overlap": topk.scores,
    "spearman": rank_correlation.scores,
    "kendall": rank_correlation.kendall_scores,
}


def get(name: str) -> Metric:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown metric {name!r}; choose from {sorted(REGISTRY)}") from None


def score(
    metrics: Mapping[str, dict], clean: torch.Tensor, adversarial: torch.Tensor
) -> dict[str, torch.Tensor]:
    """Every metric of `metrics` ({name: settings}) on one pair of heatmap stacks:
    {label: [N] float64}, in the order of `metrics` and of each metric's labels."""
    out: dict[str, torch.Tensor] = {}
    for name, settings in metrics.items():
        for label, values in get(name)(clean, adversarial, **settings).items():
            if label in out:
                raise ValueError(f"metric {name} gives the label {label!r} a second time")
            out[label] = values.double()
    return out


def mean_over_samples(
    pairs: Iterable[tuple[torch.Tensor, torch.Tensor]], metrics: Mapping[str, dict]
) -> dict[str, torch.Tensor]:
    """Mean over posterior samples of each sample's own scores: {label: [N] float64}.

    `pairs` yields (clean, adversarial) per-sample heatmaps [S_chunk, N, ...], so the
    samples never need to be in memory at once. Samples whose score is undefined (NaN)
    are left out of a point's mean; a point with none left gets NaN.
    """
    total: dict[str, torch.Tensor] = {}
    count: dict[str, torch.Tensor] = {}
    for clean, adversarial in pairs:
        for c, a in zip(clean, adversarial, strict=True):
            for label, values in score(metrics, c, a).items():
                valid = ~values.isnan()
                total[label] = total.get(label, 0) + values.nan_to_num(0.0)
                count[label] = count.get(label, 0) + valid
    if not total:
        raise ValueError("no posterior samples to average over")
    return {label: total[label] / count[label] for label in total}  # 0 / 0 = NaN
