"""What every explainer shares: per-sample heatmaps as input x gradient of a scalar score,
vectorised over posterior samples, and the Bayesian mean heatmap over the first n samples.

An explainer is a function `(posterior, x, *, layer, target, inner_start, chunk, **own)`
returning one heatmap per sample, [S, N, ...] (see explainers.REGISTRY). Averaging over
samples, and reusing one pass for every n, is generic here, not per explainer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from bayeslrp.posterior import Posterior

# Where an inner layer's explanation starts: its most active unit, or all its units.
INNER_STARTS = ("max_unit", "all_units")


def start_unit(
    z: torch.Tensor, activation: torch.Tensor | None, target: torch.Tensor | None,
    inner_start: str,
) -> torch.Tensor | None:  # fmt: skip
    """The unit [N] an explanation of a layer starts from; None = all units.

    `z` is the layer's pre-activation, `activation` its flattened output after the
    activation (None at the output layer, where the unit is `target`, or the top logit).
    Every explainer starts from the same unit, so their heatmaps stay comparable.
    """
    if activation is None:
        return z.detach().flatten(1).argmax(1) if target is None else target
    if inner_start == "max_unit":
        return activation.detach().argmax(1)
    if inner_start == "all_units":
        return None
    raise ValueError(f"unknown inner_start {inner_start!r}; choose from {INNER_STARTS}")


class UnitScore(nn.Module):
    """`forward(x)`: the explained unit of `model` at `layer` (start_unit), summed over
    images. The unit is chosen from the activations at `reference` when given (integrated
    gradients: one fixed unit along the whole path), else at the input itself."""

    def __init__(self, model, layer, target, inner_start, reference=None):
        super().__init__()
        self.model, self.reference = model, reference
        self.settings = (layer, target, inner_start)

    def _layer(self, inputs):
        """(pre-activation, flattened activation after it; None at the output layer)."""
        layer = self.settings[0]
        z = self.model[: layer + 1](inputs)
        is_output = layer == len(self.model) - 1
        return z, None if is_output else self.model[layer + 1](z).flatten(1)

    def forward(self, x):
        _, target, inner_start = self.settings
        z, activation = self._layer(x)
        chosen = (z, activation) if self.reference is None else self._layer(self.reference)
        unit = start_unit(*chosen, target, inner_start)
        if unit is None:  # all_units: the sum of the layer's activations
            return activation.sum()
        return z.flatten(1).gather(1, unit.view(-1, 1)).sum()


def input_gradient(
    posterior: Posterior, x: torch.Tensor, score: nn.Module, chunk: int = 8
) -> torch.Tensor:
    """d score(x) / dx for every sample's weights, [S, N, ...].

    `score` is a module whose `forward(x)` is a scalar (summed over images) and whose
    attribute `model` is the posterior's network, so that `functional_call` can swap in
    each sample's weights. `chunk` samples run as one `vmap`; chunk = 1 is a plain
    autograd loop (on a CPU, faster than vmap for conv nets).
    """

    def value(params, inputs):
        return functional_call(score, {f"model.{k}": v for k, v in params.items()}, (inputs,))

    x = x.detach()
    if chunk == 1:
        gradients = []
        for s in range(len(posterior)):
            inputs = x.clone().requires_grad_(True)
            with torch.enable_grad():
                (g,) = torch.autograd.grad(value(posterior.sample(s), inputs), inputs)
            gradients.append(g)
        return torch.stack(gradients)
    gradient = vmap(grad(value, argnums=1), in_dims=(0, None))
    return torch.cat([gradient(part.samples, x) for _, part in posterior.chunks(chunk)])


def times_input_gradient(
    posterior: Posterior, x: torch.Tensor, score: nn.Module, chunk: int = 8
) -> torch.Tensor:
    """x * d score(x) / dx for every sample's weights, [S, N, ...] (see input_gradient)."""
    return input_gradient(posterior, x, score, chunk) * x.detach()


# Images per gradient call of fixed_unit_gradients: its points are stacked along the batch,
# as captum does with a path, so that 16 points cost one call, not 16 (the per-call cost of
# vmap and functional_call dominated at the study's batch sizes), within this bound on the
# activations held at once (times the draws of one chunk).
BATCH_IMAGES = 400


def fixed_unit_gradients(
    posterior: Posterior, x: torch.Tensor, points: Sequence[tuple[float, torch.Tensor]],
    *, layer: int, target: torch.Tensor | None, inner_start: str, chunk: int = 8,
) -> torch.Tensor:  # fmt: skip
    """sum of w * d unit(p) / dp over the (w, p) in `points` (inputs shaped like x), for
    every sample's weights, [S, N, ...]; the unit (start_unit) is chosen once at x itself
    under each sample's weights, so the sum is of one fixed function: integrated
    gradients' path, SmoothGrad's noisy copies. The points go through the nets stacked
    along the batch (the nets have no batch coupling, so each image's gradient is its
    own), `BATCH_IMAGES` images at a time."""
    x = x.detach()
    group = max(1, BATCH_IMAGES // len(x))
    total = None
    for start in range(0, len(points), group):
        part = points[start : start + group]
        k = len(part)
        repeat = (k,) + (1,) * (x.dim() - 1)
        score = UnitScore(posterior.network, layer,
                          None if target is None else target.repeat(k), inner_start,
                          reference=x.repeat(repeat))  # fmt: skip
        stacked = torch.cat([p.detach() for _, p in part])
        grads = input_gradient(posterior, stacked, score, chunk)
        grads = grads.view(grads.shape[0], k, *x.shape)
        weights = torch.tensor([w for w, _ in part], dtype=grads.dtype, device=grads.device)
        summed = (grads * weights.view(1, k, *([1] * x.dim()))).sum(1)
        total = summed if total is None else total + summed
    return total


def mean_heatmaps(
    explainer: Callable,
    posterior: Posterior,
    x: torch.Tensor,
    layer: int,
    ns: list[int],
    targets: dict[int, torch.Tensor] | None = None,
    chunk: int = 8,
    **settings,
) -> dict[int, torch.Tensor]:
    """Mean heatmap over the first n samples, for every n in `ns` (see heatmap_moments)."""
    return heatmap_moments(explainer, posterior, x, layer, ns, targets, chunk, **settings)[0]


def heatmap_moments(
    explainer: Callable,
    posterior: Posterior,
    x: torch.Tensor,
    layer: int,
    ns: list[int],
    targets: dict[int, torch.Tensor] | None = None,
    chunk: int = 8,
    **settings,
) -> tuple[dict[int, torch.Tensor], torch.Tensor]:
    """Mean heatmap over the first n samples for every n in `ns`, in one pass over samples,
    and the per-pixel standard deviation over the largest n's samples (Bykov et al. 2020,
    "How much can I trust you?"; ddof 1, zero for a single network).

    `targets[n]` is the class explained at the output layer with n samples (the argmax of
    their mean softmax; None = inner layer or each sample's own prediction). Running sums
    serve every n at once; where a point's target for a smaller n differs from the largest
    n's, only that point is recomputed. Without per-n targets the heatmaps for every n cost
    the largest n alone. The spread is of the heatmaps the largest n's mean averages.
    """
    largest = max(ns)
    top = None if targets is None else targets[largest]
    sums = {n: torch.zeros_like(x) for n in ns}
    # float64: the spread is E[h^2] - E[h]^2, a difference of two nearly equal sums
    squares = torch.zeros_like(x, dtype=torch.float64)
    for start, part in posterior.take(largest).chunks(chunk):
        heat = explainer(part, x, layer=layer, target=top, chunk=chunk, **settings)
        squares += heat.double().pow(2).sum(0)
        for n in ns:
            count = min(max(n - start, 0), len(part))  # samples of this chunk among the first n
            if count == 0:
                continue
            total = heat[:count].sum(0)
            if targets is not None and (differs := targets[n] != top).any():
                total[differs] = explainer(
                    part.take(count), x[differs], layer=layer, target=targets[n][differs],
                    chunk=chunk, **settings,
                ).sum(0)  # fmt: skip
            sums[n] += total
    means = {n: sums[n] / n for n in ns}
    if largest < 2:
        return means, torch.zeros_like(x)
    mean = means[largest].double()
    variance = (squares - largest * mean.pow(2)).clamp_min(0) / (largest - 1)
    return means, variance.sqrt().to(x.dtype)


def check_layer(model: nn.Sequential, layer: int) -> None:
    """`layer` must be a learnable layer of `model`."""
    if not 0 <= layer < len(model) or not isinstance(model[layer], (nn.Linear, nn.Conv2d)):
        raise ValueError(f"layer {layer} is not a learnable layer of the network")
