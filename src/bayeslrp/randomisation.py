"""The model-parameter randomisation test (MPRT; Adebayo et al., NeurIPS 2018, "Sanity
checks for saliency maps"), cascading from the output layer down.

An explanation of a model should change when the model does. For each learnable layer l,
from the output layer down, every draw's weights of layer l and above are replaced by
one fresh random initialisation (PyTorch's default, seeded; the same for every draw and
every model of an architecture), the explainer's Bayesian mean heatmap is recomputed for
the same class, and its similarity with the original is Spearman's rank correlation of
|relevance| per point (Adebayo et al.'s absolute variant, Quantus's default) over the
pixels of the image that are not black. Every explanation of the x-times-gradient family
(LRP, gradient x input, integrated gradients) is exactly 0 where x = 0, whatever the
weights: on MNIST that is most of the image, and counting those tied zeros made even a
fully randomised net look 0.9-0.99 similar (the first default run). High similarity after
randomisation means the explanation barely depends on what the model learnt: a "robust"
explanation of that kind is no achievement.
"""

from __future__ import annotations

import torch

from bayeslrp.explainers import bayesian_heatmaps
from bayeslrp.models import LEARNABLE_LAYERS, build_model
from bayeslrp.posterior import Posterior
from bayeslrp.rank_correlation import spearman


def random_weights(arch: str, hidden: int, seed: int) -> dict[str, torch.Tensor]:
    """A freshly initialised network's parameters (the global RNG is left untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return build_model(arch, hidden).state_dict()


def randomised(posterior: Posterior, weights: dict[str, torch.Tensor],
               from_layer: int) -> Posterior:  # fmt: skip
    """`posterior` with layer `from_layer` and every layer above it set to `weights` in every
    draw."""
    samples = {}
    for key, value in posterior.samples.items():
        if int(key.split(".")[0]) >= from_layer:
            value = weights[key].to(value).expand_as(value).clone()
        samples[key] = value
    return Posterior(posterior.network, samples)


def cascade(explainer: str, posterior: Posterior, x: torch.Tensor, arch: str, hidden: int,
            heatmaps: dict[int, torch.Tensor], targets: dict[int, torch.Tensor] | None, *,
            seed: int, settings: dict) -> dict[int, dict[int, torch.Tensor]]:  # fmt: skip
    """from_layer -> n -> [N] similarity (Spearman of |relevance|) of the mean output-layer
    heatmap over the first n draws after randomising layer from_layer and above, with the
    original `heatmaps[n]`, explaining the same classes `targets[n]` (None: each draw's
    own, as explainers.target per_sample)."""
    ns = sorted(heatmaps)
    layer = LEARNABLE_LAYERS[arch][-1]
    weights = random_weights(arch, hidden, seed)
    out = {}
    for from_layer in reversed(LEARNABLE_LAYERS[arch]):
        model = randomised(posterior, weights, from_layer)
        moved = bayesian_heatmaps(explainer, model, x, layer, ns, targets, **settings)
        out[from_layer] = {n: similarity(heatmaps[n], moved[n], x) for n in ns}
    return out


def similarity(original: torch.Tensor, moved: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """[N] Spearman's rho of |relevance| over each image's pixels with x > 0 (NaN for an
    all-black image or a constant heatmap there)."""
    inside = x.flatten(1) > 0
    a, b = original.flatten(1), moved.flatten(1)
    return torch.cat([spearman(a[i, inside[i]][None], b[i, inside[i]][None], "absolute")
                      for i in range(len(x))])  # fmt: skip
