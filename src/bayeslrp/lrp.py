"""Epsilon-LRP on `nn.Sequential` networks, batched over images.

For a Linear or Conv layer with input a and pre-activation z = W a + b,
    R_j = sum_k a_j w_jk / (z_k + eps * sign(z_k)) * R_k.
The sum over k is the layer's vector-Jacobian product with R / (z + eps sign z), so each
layer costs one forward and one autograd VJP, for any layer type, on CPU or CUDA.
LeakyReLU passes relevance unchanged (zennit's `Pass`), MaxPool routes it to the winning
input and Flatten reshapes; both are exactly their gradient.
"""

from __future__ import annotations

import torch
from torch import nn

INNER_STARTS = ("max_unit", "all_units")


def _stabilise(z: torch.Tensor, epsilon: float) -> torch.Tensor:
    # sign(0) is taken as +1 so a dead unit never divides by zero.
    return z + epsilon * torch.where(z >= 0, 1.0, -1.0).to(z.dtype)


def _start_relevance(
    activation: torch.Tensor, is_output: bool, target: torch.Tensor | None, inner_start: str
) -> torch.Tensor:
    """Initial relevance at the explained layer: 1 on the explained unit, else 0."""
    flat = activation.flatten(1)
    if is_output:
        unit = flat.argmax(1) if target is None else target
    elif inner_start == "max_unit":
        unit = flat.argmax(1)
    elif inner_start == "all_units":
        return activation.detach().clone()
    else:
        raise ValueError(f"unknown lrp inner_start {inner_start!r}; choose from {INNER_STARTS}")
    start = torch.zeros_like(flat)
    start.scatter_(1, unit.view(-1, 1), 1.0)
    return start.view_as(activation)


def epsilon_lrp(
    model: nn.Sequential,
    x: torch.Tensor,
    layer: int,
    epsilon: float = 0.1,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
) -> torch.Tensor:
    """Input relevance [N, ...] of the unit explained at learnable layer `layer`.

    At the output layer the explained unit is `target` (default: each input's predicted
    class); at an inner layer the start is the output of `layer` after its activation.
    """
    modules = list(model)
    stop = layer + 1
    is_output = layer == len(modules) - 1
    if not is_output and isinstance(modules[stop], nn.LeakyReLU):
        stop += 1  # start after the layer's activation
    inputs = [x.detach()]
    with torch.no_grad():
        for module in modules[:stop]:
            inputs.append(module(inputs[-1]))
    relevance = _start_relevance(inputs[stop], is_output, target, inner_start)
    for i in reversed(range(stop)):
        module, a = modules[i], inputs[i].detach().requires_grad_(True)
        if isinstance(module, nn.LeakyReLU):
            continue
        with torch.enable_grad():
            out = module(a)
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                (c,) = torch.autograd.grad(out, a, relevance / _stabilise(out, epsilon))
                relevance = a.detach() * c
            elif isinstance(module, (nn.MaxPool2d, nn.Flatten)):
                (relevance,) = torch.autograd.grad(out, a, relevance)
            else:
                raise TypeError(f"no LRP rule for layer {i} ({type(module).__name__})")
    return relevance


def bayesian_lrp(
    networks,
    x: torch.Tensor,
    layer: int,
    epsilon: float,
    target: torch.Tensor,
    inner_start: str = "max_unit",
) -> torch.Tensor:
    """Mean of the per-sample heatmaps over an iterable of sample networks."""
    total, count = None, 0
    for net in networks:
        heat = epsilon_lrp(net, x, layer, epsilon, target, inner_start)
        total = heat if total is None else total + heat
        count += 1
    return total / count
