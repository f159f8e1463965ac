"""Epsilon-LRP of `nn.Sequential` networks, batched over images and posterior samples.

For a Linear or Conv layer with input a and pre-activation z = W a + b,
    R_j = sum_k a_j w_jk / (z_k + eps * sign(z_k)) * R_k                      (1)
LeakyReLU passes relevance unchanged (zennit's `Pass`), MaxPool routes it to the winning
input and Flatten reshapes.

`native` backend: (1) written as gradient x input of a modified forward pass
(`heatmaps.times_input_gradient`). With
G = R / a at every layer input, (1) is the plain backward pass of the network in which
each activation's derivative f'(z) is replaced by f(z) / (z + eps sign z), and the start
is seeded with R / (z + eps sign z). One forward and one backward per batch, so it runs
under `torch.func.vmap` over posterior samples and on any device.

`captum` backend: `captum.attr.LRP` with the epsilon rule on Linear/Conv, a pass-through
rule on LeakyReLU and Flatten (captum has none for them) and winner-take-all MaxPool.
It is slower (one sample at a time) and serves as an independent cross-check.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from bayeslrp.heatmaps import check_layer, start_unit, times_input_gradient
from bayeslrp.posterior import Posterior

BACKENDS = ("native", "captum")


def stabilise(z: torch.Tensor, epsilon: float) -> torch.Tensor:
    """z + eps * sign(z), with sign(0) = +1 so that a dead unit never divides by zero."""
    return z + epsilon * torch.where(z >= 0, 1.0, -1.0).to(z.dtype)


def _relevance_pass(module: nn.LeakyReLU, z: torch.Tensor, epsilon: float) -> torch.Tensor:
    """Value f(z), derivative f(z) / (z + eps sign z): the pass rule in gradient form."""
    value = module(z)
    ratio = (value / stabilise(z, epsilon)).detach()
    return value.detach() + z * ratio - (z * ratio).detach()


def _explained(modules, x, layer, epsilon, target, inner_start):
    """Scalar whose gradient w.r.t. x, times x, is the input relevance (summed over images)."""
    a = x
    for module in modules[:layer]:
        a = _relevance_pass(module, a, epsilon) if isinstance(module, nn.LeakyReLU) else module(a)
    z = modules[layer](a)
    scaled = (z / stabilise(z, epsilon).detach()).flatten(1)
    is_output = layer == len(modules) - 1
    activation = None if is_output else modules[layer + 1](z).detach().flatten(1)
    unit = start_unit(z, activation, target, inner_start)
    if unit is None:  # all_units: relevance = the whole representation
        return (scaled * activation).sum()
    return scaled.gather(1, unit.view(-1, 1)).sum()  # relevance 1 on the start unit


def _check_layer(model: nn.Sequential, layer: int) -> None:
    check_layer(model, layer)
    for i, module in enumerate(model[: layer + 1]):
        if not isinstance(module, (nn.Linear, nn.Conv2d, nn.LeakyReLU, nn.MaxPool2d, nn.Flatten)):
            raise TypeError(f"no LRP rule for layer {i} ({type(module).__name__})")


def epsilon_lrp(
    model: nn.Sequential,
    x: torch.Tensor,
    layer: int,
    epsilon: float = 0.1,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
) -> torch.Tensor:
    """Input relevance [N, ...] of one network, explaining learnable layer `layer`.

    At the output layer the explained unit is `target` (default: each input's predicted
    class); at an inner layer relevance starts at the output of `layer` after its
    activation (`inner_start`).
    """
    _check_layer(model, layer)
    x = x.detach().requires_grad_(True)
    with torch.enable_grad():
        score = _explained(list(model), x, layer, epsilon, target, inner_start)
        (g,) = torch.autograd.grad(score, x)
    return x.detach() * g


class _Explainer(nn.Module):
    """`forward(x)` = the explained score of `model`, so `functional_call` can swap weights."""

    def __init__(self, model, layer, epsilon, target, inner_start):
        super().__init__()
        self.model = model
        self.settings = (layer, epsilon, target, inner_start)

    def forward(self, x):
        return _explained(list(self.model), x, *self.settings)


def sample_relevance(
    posterior: Posterior,
    x: torch.Tensor,
    *,
    layer: int,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
    chunk: int = 8,
    epsilon: float = 0.1,
    backend: str = "native",
) -> torch.Tensor:
    """Per-sample heatmaps [S, N, ...] of every posterior sample (the `lrp` explainer).

    `native` is vectorised over samples (`chunk` at a time); `captum` loops over them.
    """
    model = posterior.network
    _check_layer(model, layer)
    if backend == "captum":
        return torch.stack([
            captum_lrp(model, posterior.sample(s), x, layer, epsilon, target, inner_start)
            for s in range(len(posterior))
        ])  # fmt: skip
    if backend != "native":
        raise ValueError(f"unknown lrp backend {backend!r}; choose from {BACKENDS}")
    explainer = _Explainer(model, layer, epsilon, target, inner_start)
    return times_input_gradient(posterior, x, explainer, chunk)


def _captum_network(model: nn.Sequential, stop: int, epsilon: float) -> nn.Sequential:
    """A copy of `model[:stop]` that captum's LRP can run, with our rules attached.

    captum has no rule for LeakyReLU (we attach IdentityRule: relevance passes unchanged)
    and cannot pass relevance through Flatten, so the fc net's leading Flatten is dropped
    (inputs are flattened by the caller) and the conv net's Flatten + Linear becomes the
    equivalent Conv2d whose kernel covers the whole 4x4 map.
    """
    from captum.attr._utils.lrp_rules import EpsilonRule, IdentityRule

    modules = []
    for module in copy.deepcopy(list(model[:stop])):
        if isinstance(module, nn.Flatten):
            continue
        if isinstance(module, nn.Linear) and modules and isinstance(modules[-1], nn.MaxPool2d):
            channels = module.in_features // 16
            conv = nn.Conv2d(channels, module.out_features, 4).to(module.weight)
            with torch.no_grad():
                conv.weight.copy_(module.weight.view(conv.weight.shape))
                conv.bias.copy_(module.bias)
            module = conv
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            module.rule = EpsilonRule(epsilon=epsilon)
        elif isinstance(module, nn.LeakyReLU):
            module.rule = IdentityRule()
        elif isinstance(module, nn.MaxPool2d):
            module.rule = EpsilonRule(epsilon=1e-12)  # z = the winner: relevance goes there
        modules.append(module)
    return nn.Sequential(*modules)


def captum_lrp(
    model: nn.Sequential,
    weights: dict[str, torch.Tensor],
    x: torch.Tensor,
    layer: int,
    epsilon: float = 0.1,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
) -> torch.Tensor:
    """`epsilon_lrp` of one weight sample computed by `captum.attr.LRP` (the cross-check).

    captum seeds the explained unit with its own value; dividing by it gives our seed of 1.
    """
    from captum.attr import LRP

    if inner_start != "max_unit" and layer != len(model) - 1:
        raise ValueError("the captum backend supports explainers.inner_start: max_unit only")
    template = copy.deepcopy(model)
    template.load_state_dict(weights)
    is_output = layer == len(model) - 1
    stop = layer + 1 if is_output else layer + 2  # inner layers: include the activation
    net = _captum_network(template, stop, epsilon)
    inputs = x.flatten(1) if isinstance(model[0], nn.Flatten) else x
    with torch.no_grad():
        out = net(inputs)
    flat = out.flatten(1)
    unit = target if (is_output and target is not None) else flat.argmax(1)
    # captum wants a tuple index per image into a conv output, an int into a vector.
    coords = torch.stack(torch.unravel_index(unit, out.shape[1:]), 1)
    index = [tuple(c) for c in coords.tolist()] if out.dim() > 2 else unit.tolist()
    relevance = LRP(net).attribute(inputs, target=index)
    value = flat.gather(1, unit.view(-1, 1)).view(-1, *[1] * (relevance.dim() - 1))
    return (relevance / value).view_as(x).detach()
