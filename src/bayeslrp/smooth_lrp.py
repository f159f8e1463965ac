"""Epsilon-LRP written out as an explicit backward pass that autograd can differentiate
again, optionally on the softplus-beta surrogate of the network (Dombrowski et al.,
NeurIPS 2019, "Explanations can be manipulated and geometry is to blame").

lrp.py computes the same heatmaps as one gradient of a modified forward pass, detaching
the pass rule's ratios f(z) / (z + eps sign z): fast, but its heatmap has no derivative
with respect to the input. Attacks on explanations (explanation_attacks.py) need that
derivative, so here the backward pass is written out: G = seed at the explained unit,
then G <- G W (the vjp of each Linear / Conv / MaxPool / Flatten) and G <- G * f(z) /
(z + eps sign z) at each activation, heatmap = x * G; every factor stays in the graph.

With `beta` set, each LeakyReLU(z) = a z + (1 - a) relu(z) becomes
a z + (1 - a) softplus_beta(z), smooth with curvature everywhere (beta -> inf gives the
LeakyReLU back). It serves twice: as the attacks' differentiable stand-in for the real
net (whose explanations they then score exactly), and as the beta-smoothed explainer
`beta_lrp`, Dombrowski et al.'s cheap defence, a rival of the Bayesian average.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call, vjp, vmap

from bayeslrp.heatmaps import check_layer, start_unit
from bayeslrp.lrp import stabilise
from bayeslrp.posterior import Posterior


def activation(module: nn.LeakyReLU, z: torch.Tensor, beta: float | None) -> torch.Tensor:
    """The LeakyReLU `module` at z, or its softplus-beta surrogate when `beta` is set."""
    if beta is None:
        return module(z)
    slope = module.negative_slope
    return slope * z + (1 - slope) * F.softplus(z, beta=beta)


def _layer(module: nn.Module, index: int, params: dict, a: torch.Tensor) -> torch.Tensor:
    """`module` (layer `index` of the network) applied to `a` with the weights `params`."""
    if isinstance(module, (nn.Linear, nn.Conv2d)):
        weights = {"weight": params[f"{index}.weight"], "bias": params[f"{index}.bias"]}
        return functional_call(module, weights, (a,))
    return module(a)


def heatmap_and_output(
    network: nn.Sequential,
    params: dict[str, torch.Tensor],
    x: torch.Tensor,
    *,
    layer: int,
    epsilon: float = 0.1,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
    beta: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Epsilon-LRP heatmap [N, ...] of one network with weights `params`, explaining
    learnable layer `layer` as lrp.epsilon_lrp does (beta None: the same heatmap), and that
    layer's pre-activation [N, ...] (at the output layer: the logits). Both are
    differentiable with respect to `x` and `params`, to any order."""
    check_layer(network, layer)
    modules = list(network)
    a, backward = x, []
    for index, module in enumerate(modules[:layer]):
        if isinstance(module, nn.LeakyReLU):
            value = activation(module, a, beta)
            backward.append(("ratio", value / stabilise(a, epsilon)))
            a = value
        else:
            a, pullback = vjp(lambda inputs, m=module, i=index: _layer(m, i, params, inputs), a)
            backward.append(("vjp", pullback))
    z = _layer(modules[layer], layer, params, a)
    is_output = layer == len(modules) - 1
    after = None if is_output else activation(modules[layer + 1], z, beta).flatten(1)
    unit = start_unit(z, after, target, inner_start)
    scale = 1 / stabilise(z, epsilon).flatten(1)  # relevance 1 at the start unit(s) ...
    if unit is None:  # ... or, with all_units, the whole layer's activation
        seed = scale * after
    else:
        seed = scale * F.one_hot(unit, scale.shape[1]).to(scale.dtype)
    # Relevance / input at the explained layer's input, propagated down: G = R / a.
    g = vjp(lambda inputs: _layer(modules[layer], layer, params, inputs), a)[1](
        seed.view_as(z)
    )[0]
    for kind, step in reversed(backward):
        g = g * step if kind == "ratio" else step(g)[0]
    return x * g, z


def sample_heatmaps(
    posterior: Posterior,
    x: torch.Tensor,
    *,
    layer: int,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
    chunk: int = 8,
    epsilon: float = 0.1,
    beta: float | None = 2.0,
) -> torch.Tensor:
    """Per-sample heatmaps [S, N, ...] of the beta-smoothed epsilon-LRP (the `beta_lrp`
    explainer), `chunk` samples per vmap."""
    network = posterior.network

    def one(params, inputs):
        return heatmap_and_output(network, params, inputs, layer=layer, epsilon=epsilon,
                                  target=target, inner_start=inner_start, beta=beta)[0]  # fmt: skip

    with torch.no_grad():
        return torch.cat([vmap(one, in_dims=(0, None))(part.samples, x.detach())
                          for _, part in posterior.chunks(chunk)])  # fmt: skip


def mean_heatmap_and_proba(
    posterior: Posterior,
    x: torch.Tensor,
    target: torch.Tensor,
    *,
    epsilon: float,
    beta: float | None,
    chunk: int = 8,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean output-layer heatmap of `target` and mean softmax over the posterior's samples,
    differentiable with respect to `x` (chunked: one graph per chunk is summed)."""
    network = posterior.network
    layer = len(network) - 1

    def one(params, inputs):
        heat, logits = heatmap_and_output(network, params, inputs, layer=layer,
                                          epsilon=epsilon, target=target, beta=beta)  # fmt: skip
        return heat, logits.softmax(-1)

    heat_sum = proba_sum = 0
    for _, part in posterior.chunks(chunk):
        heat, proba = vmap(one, in_dims=(0, None))(part.samples, x)
        heat_sum, proba_sum = heat_sum + heat.sum(0), proba_sum + proba.sum(0)
    return heat_sum / len(posterior), proba_sum / len(posterior)


def input_gradient(
    posterior: Posterior,
    x: torch.Tensor,
    target: torch.Tensor,
    heat_weights: torch.Tensor,
    proba_weights: torch.Tensor | None,
    *,
    epsilon: float,
    beta: float | None,
    chunk: int = 8,
) -> torch.Tensor:
    """d/dx of <heat_weights, mean heatmap(x)> + <proba_weights, mean softmax(x)>, [N, ...]:
    the vector-Jacobian product through the mean heatmap (second derivatives of the net).
    A loss L(mean heatmap, mean softmax) has the gradient of this linear form at its
    weights dL/dh, dL/dp, so it is summed chunk by chunk with one chunk's graph in memory."""
    grad = torch.zeros_like(x)
    for _, part in posterior.chunks(chunk):
        inputs = x.detach().requires_grad_(True)
        with torch.enable_grad():
            heat, proba = mean_heatmap_and_proba(part, inputs, target, epsilon=epsilon,
                                                 beta=beta, chunk=chunk)  # fmt: skip
            value = (heat * heat_weights).sum() * len(part)
            if proba_weights is not None:
                value = value + (proba * proba_weights).sum() * len(part)
            (part_grad,) = torch.autograd.grad(value, inputs)
        grad += part_grad
    return grad / len(posterior)
