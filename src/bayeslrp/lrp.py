"""Epsilon-LRP of `nn.Sequential` networks, batched over images and posterior samples.

For a Linear or Conv layer with input a and pre-activation z = W a + b,
    R_j = sum_k a_j w_jk / (z_k + eps * sign(z_k)) * R_k                      (1)
LeakyReLU passes relevance unchanged (zennit's `Pass`), MaxPool routes it to the winning
input and Flatten reshapes.

`native` backend: (1) written as gradient x input of a modified forward pass. With
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
from torch.func import functional_call, grad, vmap

from bayeslrp.posterior import num_samples

INNER_STARTS = ("max_unit", "all_units")
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
    if layer == len(modules) - 1:  # output layer: relevance 1 on the target class
        unit = z.detach().flatten(1).argmax(1) if target is None else target
        return scaled.gather(1, unit.view(-1, 1)).sum()
    activation = modules[layer + 1](z).detach().flatten(1)
    if inner_start == "max_unit":  # relevance 1 on the most active unit
        return scaled.gather(1, activation.argmax(1).view(-1, 1)).sum()
    if inner_start == "all_units":  # relevance = the whole representation
        return (scaled * activation).sum()
    raise ValueError(f"unknown lrp.inner_start {inner_start!r}; choose from {INNER_STARTS}")


def _check_layer(model: nn.Sequential, layer: int) -> None:
    if not isinstance(model[layer], (nn.Linear, nn.Conv2d)):
        raise ValueError(f"layer {layer} ({type(model[layer]).__name__}) is not learnable")
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
    model: nn.Sequential,
    posterior: dict[str, torch.Tensor],
    x: torch.Tensor,
    layer: int,
    epsilon: float = 0.1,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
    chunk: int = 8,
    backend: str = "native",
) -> torch.Tensor:
    """Per-sample heatmaps [S, N, ...] of every posterior sample.

    `native` is vectorised over samples (`chunk` at a time); `captum` loops over them.
    """
    _check_layer(model, layer)
    if backend == "captum":
        return torch.stack([
            captum_lrp(model, {k: v[s] for k, v in posterior.items()}, x, layer, epsilon,
                       target, inner_start)
            for s in range(num_samples(posterior))
        ])  # fmt: skip
    if backend != "native":
        raise ValueError(f"unknown lrp.backend {backend!r}; choose from {BACKENDS}")
    explainer = _Explainer(model, layer, epsilon, target, inner_start)

    def score(params, inputs):
        return functional_call(explainer, {f"model.{k}": v for k, v in params.items()}, (inputs,))

    x = x.detach()
    if chunk == 1:  # a plain autograd loop: on a CPU, faster than vmap for conv nets
        heat = []
        for s in range(num_samples(posterior)):
            inputs = x.clone().requires_grad_(True)
            with torch.enable_grad():
                (g,) = torch.autograd.grad(
                    score({k: v[s] for k, v in posterior.items()}, inputs), inputs
                )
            heat.append(g * x)
        return torch.stack(heat)
    gradient = vmap(grad(score, argnums=1), in_dims=(0, None))
    parts = []
    for start in range(0, num_samples(posterior), chunk):
        params = {k: v[start : start + chunk] for k, v in posterior.items()}
        parts.append(gradient(params, x) * x)
    return torch.cat(parts)


def bayesian_relevance(
    model: nn.Sequential,
    posterior: dict[str, torch.Tensor],
    x: torch.Tensor,
    layer: int,
    ns: list[int],
    targets: dict[int, torch.Tensor] | None = None,
    epsilon: float = 0.1,
    inner_start: str = "max_unit",
    chunk: int = 8,
    backend: str = "native",
) -> dict[int, torch.Tensor]:
    """Mean heatmap over the first n samples, for every n in `ns`, in one pass over samples.

    `targets[n]` is the class explained at the output layer with n samples (the argmax of
    their mean softmax; None = inner layer or each sample's own prediction). Running sums
    serve every n at once; where a point's target for a smaller n differs from the largest
    n's, only that point is recomputed. Without per-n targets the heatmaps for every n cost
    the largest n alone.
    """
    largest = max(ns)
    top = None if targets is None else targets[largest]
    sums = {n: torch.zeros_like(x) for n in ns}
    for start in range(0, largest, chunk):
        size = min(chunk, largest - start)
        params = {k: v[start : start + size] for k, v in posterior.items()}
        heat = sample_relevance(model, params, x, layer, epsilon, top, inner_start, chunk, backend)
        for n in ns:
            count = min(max(n - start, 0), size)  # samples of this chunk among the first n
            if count == 0:
                continue
            part = heat[:count].sum(0)
            if targets is not None and (differs := targets[n] != top).any():
                own = {k: v[:count] for k, v in params.items()}
                part[differs] = sample_relevance(
                    model, own, x[differs], layer, epsilon, targets[n][differs], inner_start,
                    chunk, backend,
                ).sum(0)  # fmt: skip
            sums[n] += part
    return {n: sums[n] / n for n in ns}


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
        raise ValueError("the captum backend supports lrp.inner_start: max_unit only")
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
