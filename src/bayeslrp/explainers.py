"""The explainers: name -> per-sample heatmaps of a posterior.

Each entry is a function `(posterior, x, *, layer, target, inner_start, chunk, **own)`
returning one heatmap per posterior sample, [S, N, ...]; `own` are its settings block
`explainers.<name>` of the config. The Bayesian mean over n samples is generic
(`heatmaps.mean_heatmaps`). A new explainer is a module, an entry here and in
names.EXPLAINERS, and a settings block in the schema (explainers.<name>).
"""

from __future__ import annotations

import torch

from bayeslrp import (
    gradient_x_input,
    integrated_gradients,
    lrp,
    lrp_rules,
    smooth_lrp,
    smoothgrad,
)
from bayeslrp.heatmaps import heatmap_moments, mean_heatmaps
from bayeslrp.names import EXPLAINER_SPEED_SETTINGS
from bayeslrp.posterior import Posterior

REGISTRY = {
    "lrp": lrp.sample_relevance,
    "gradient_x_input": gradient_x_input.sample_heatmaps,
    "beta_lrp": smooth_lrp.sample_heatmaps,
    "integrated_gradients": integrated_gradients.sample_heatmaps,
    "lrp_gamma": lrp_rules.gamma_heatmaps,
    "lrp_zplus": lrp_rules.zplus_heatmaps,
    "lrp_epsilon_gamma_box": lrp_rules.epsilon_gamma_box_heatmaps,
    "smoothgrad": smoothgrad.sample_heatmaps,
}


def get(name: str):
    if name not in REGISTRY:
        raise ValueError(f"unknown explainer {name!r}; choose from {tuple(REGISTRY)}")
    return REGISTRY[name]


def sample_heatmaps(name: str, posterior: Posterior, x: torch.Tensor, **settings):
    """Per-sample heatmaps [S, N, ...] of the explainer `name`."""
    return get(name)(posterior, x, **settings)


def bayesian_heatmaps(
    name: str, posterior: Posterior, x: torch.Tensor, layer: int, ns: list[int],
    targets: dict[int, torch.Tensor] | None = None, **settings,
) -> dict[int, torch.Tensor]:  # fmt: skip
    """Mean heatmap of the explainer `name` over the first n samples, for every n in `ns`."""
    return mean_heatmaps(get(name), posterior, x, layer, ns, targets, **settings)


def bayesian_heatmap_moments(
    name: str, posterior: Posterior, x: torch.Tensor, layer: int, ns: list[int],
    targets: dict[int, torch.Tensor] | None = None, **settings,
) -> tuple[dict[int, torch.Tensor], torch.Tensor]:  # fmt: skip
    """bayesian_heatmaps and the per-pixel posterior std of the largest n's heatmaps."""
    return heatmap_moments(get(name), posterior, x, layer, ns, targets, **settings)


def settings_for(name: str, given: dict, config: dict, chunk: int) -> dict:
    """Keyword settings of the explainer `name` from `given` (a rule's params for it, see
    rules/common/settings.smk: shared target and inner start, its own block), the speed
    settings of `config` (the explainers block: the LRP backend) and `chunk` (the
    explainers' chunk resolved for the net, runtime.chunk_size)."""
    speed = {key: config[name][key] for key in EXPLAINER_SPEED_SETTINGS.get(name, ())}
    return {"inner_start": given["inner_start"], "chunk": chunk, **given[name], **speed}
