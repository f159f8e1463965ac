"""LRP rules beyond epsilon, as zennit defines them: Gamma, ZPlus (= alpha1-beta0) and ZBox,
and composites of them, written as one explicit relevance backward pass that runs under
`vmap` over posterior samples.

A rule maps the relevance R at a Linear/Conv layer's output to its input a. Each is a sum
of terms input_m * W_m^T c_m, with modified inputs (a+, a-, box bounds), modified weights
(W + gamma W+, W+, ...) and cotangents c_m = R / (a stabilised modified output), exactly
zennit 0.5's `BasicHook` rules, including their handling of the negative activations a
LeakyReLU lets through (a- with W- also counts as a positive contribution). LeakyReLU
passes relevance unchanged (zennit's `Pass`), MaxPool and Flatten route it as their
gradient does (zennit attaches no rule to them either).

Why not zennit itself: it attaches hooks to one module instance, so a posterior of S
draws would be S weight loads and S hooked passes; a rule here is a pure function of
(inputs, weights, relevance), so a chunk of draws runs as one `vmap`.
tests/test_lrp_rules.py checks every composite against zennit's, and the epsilon rule of
this backward pass against lrp.py's (its own, faster, modified-gradient form).
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import vjp, vmap

from bayeslrp.heatmaps import check_layer, start_unit
from bayeslrp.lrp import stabilise
from bayeslrp.posterior import Posterior

# Pixel bounds of the ZBox rule: every image here is in [0, 1].
PIXEL_LOW, PIXEL_HIGH = 0.0, 1.0


def _contribution(apply, inputs, weight, cotangent):
    """inputs * W^T cotangent: the relevance one term of a rule sends to its input."""
    _, pullback = vjp(lambda i: apply(i, weight, None), inputs)
    return inputs * pullback(cotangent)[0]


def epsilon_rule(apply, a, weight, bias, relevance, *, epsilon=1e-6):
    """R_in = a * W^T (R / (z + eps sign z)) (zennit's Epsilon)."""
    z = apply(a, weight, bias)
    return _contribution(apply, a, weight, relevance / stabilise(z, epsilon))


def zplus_rule(apply, a, weight, bias, relevance, *, stabilizer=1e-6):
    """alpha1-beta0: R goes to the positive contributions a+ W+ and a- W- (zennit's ZPlus)."""
    a_pos, a_neg = a.clamp(min=0), a.clamp(max=0)
    w_pos, w_neg = weight.clamp(min=0), weight.clamp(max=0)
    z = apply(a_pos, w_pos, bias.clamp(min=0)) + apply(a_neg, w_neg, None)
    c = relevance / stabilise(z, stabilizer)
    return _contribution(apply, a_pos, w_pos, c) + _contribution(apply, a_neg, w_neg, c)


def gamma_rule(apply, a, weight, bias, relevance, *, gamma=0.25, stabilizer=1e-6):
    """Generalised gamma rule (zennit's Gamma): outputs z > 0 share R over their positive
    contributions with weights W + gamma W+ (inputs a+) and W + gamma W- (inputs a-),
    outputs z < 0 over their negative ones; z = 0 passes nothing."""
    a_pos, a_neg = a.clamp(min=0), a.clamp(max=0)
    up = weight + gamma * weight.clamp(min=0)
    down = weight + gamma * weight.clamp(max=0)
    z = apply(a, weight, bias)
    positive = apply(a_pos, up, bias + gamma * bias.clamp(min=0)) + apply(a_neg, down, None)
    negative = apply(a_pos, down, bias + gamma * bias.clamp(max=0)) + apply(a_neg, up, None)
    c_pos = (z > 0).to(z.dtype) * relevance / stabilise(positive, stabilizer)
    c_neg = (z < 0).to(z.dtype) * relevance / stabilise(negative, stabilizer)
    return (_contribution(apply, a_pos, up, c_pos) + _contribution(apply, a_neg, down, c_pos)
            + _contribution(apply, a_pos, down, c_neg)
            + _contribution(apply, a_neg, up, c_neg))  # fmt: skip


def zbox_rule(apply, x, weight, bias, relevance, *, low=PIXEL_LOW, high=PIXEL_HIGH,
              stabilizer=1e-6):  # fmt: skip
    """The input layer's box rule (zennit's ZBox): z = (W x + b) - (W+ low + b+) -
    (W- high + b-), zennit clamping the bias with the weights, so the bias cancels;
    R_in = x W^T c - low W+^T c - high W-^T c with c = R / z stabilised."""
    lows, highs = torch.full_like(x, low), torch.full_like(x, high)
    w_pos, w_neg = weight.clamp(min=0), weight.clamp(max=0)
    z = (apply(x, weight, bias) - apply(lows, w_pos, bias.clamp(min=0))
         - apply(highs, w_neg, bias.clamp(max=0)))  # fmt: skip
    c = relevance / stabilise(z, stabilizer)
    return (_contribution(apply, x, weight, c) - _contribution(apply, lows, w_pos, c)
            - _contribution(apply, highs, w_neg, c))  # fmt: skip


def _epsilon_gamma_box(module, first, *, epsilon=1e-6, gamma=0.25, stabilizer=1e-6):
    """zennit's EpsilonGammaBox: ZBox at the first conv layer, gamma at the other conv
    layers, epsilon at the dense ones (so an fc net gets epsilon everywhere)."""
    if isinstance(module, nn.Conv2d) and first:
        return partial(zbox_rule, stabilizer=stabilizer)
    if isinstance(module, nn.Conv2d):
        return partial(gamma_rule, gamma=gamma, stabilizer=stabilizer)
    return partial(epsilon_rule, epsilon=epsilon)


UNIFORM = {"epsilon": epsilon_rule, "gamma": gamma_rule, "zplus": zplus_rule}


def composite(name: str, **settings):
    """`(module, first_conv) -> rule` of the composite `name` (COMPOSITES): one rule at
    every learnable layer, or zennit's epsilon_gamma_box."""
    if name == "epsilon_gamma_box":
        return partial(_epsilon_gamma_box, **settings)
    if name not in UNIFORM:
        raise ValueError(f"unknown LRP composite {name!r}; choose from {COMPOSITES}")
    rule = partial(UNIFORM[name], **settings)
    return lambda module, first: rule


COMPOSITES = ("epsilon", "gamma", "zplus", "epsilon_gamma_box")


def _apply(module: nn.Module):
    """The layer's linear map as a function of (inputs, weight, bias)."""
    if isinstance(module, nn.Conv2d):
        return partial(F.conv2d, stride=module.stride, padding=module.padding,
                       dilation=module.dilation, groups=module.groups)  # fmt: skip
    return F.linear


def heatmap(
    network: nn.Sequential,
    params: dict[str, torch.Tensor],
    x: torch.Tensor,
    rules,
    *,
    layer: int,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
) -> torch.Tensor:
    """Input relevance [N, ...] of one network with weights `params`, explaining learnable
    layer `layer` from the same start unit as lrp.py (relevance 1 on it, or the layer's
    activations with all_units); `rules(module, first_conv)` gives each layer's rule."""
    check_layer(network, layer)
    modules = list(network)
    inputs, a = [], x
    for index, module in enumerate(modules[: layer + 1]):
        inputs.append(a)
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            a = _apply(module)(a, params[f"{index}.weight"], params[f"{index}.bias"])
        else:
            a = module(a)
    is_output = layer == len(modules) - 1
    after = None if is_output else modules[layer + 1](a).flatten(1)
    unit = start_unit(a, after, target, inner_start)
    if unit is None:  # all_units: the layer's activations, passed through the activation
        relevance = after.view_as(a)
    else:
        relevance = F.one_hot(unit, a[0].numel()).to(a.dtype).view_as(a)
    first_conv = next((i for i, m in enumerate(modules) if isinstance(m, nn.Conv2d)), None)
    for index in reversed(range(layer + 1)):
        module = modules[index]
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            rule = rules(module, index == first_conv)
            relevance = rule(_apply(module), inputs[index], params[f"{index}.weight"],
                             params[f"{index}.bias"], relevance)  # fmt: skip
        elif isinstance(module, (nn.MaxPool2d, nn.Flatten)):
            relevance = vjp(module, inputs[index])[1](relevance)[0]
        elif not isinstance(module, nn.LeakyReLU):
            raise TypeError(f"no LRP rule for layer {index} ({type(module).__name__})")
    return relevance


def sample_heatmaps(
    posterior: Posterior,
    x: torch.Tensor,
    *,
    composite_name: str,
    layer: int,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
    chunk: int = 8,
    **settings,
) -> torch.Tensor:
    """Per-sample heatmaps [S, N, ...] of the composite `composite_name` with its
    `settings`, `chunk` samples per vmap."""
    network, rules = posterior.network, composite(composite_name, **settings)

    def one(params, inputs):
        return heatmap(network, params, inputs, rules, layer=layer, target=target,
                       inner_start=inner_start)  # fmt: skip

    with torch.no_grad():
        return torch.cat([vmap(one, in_dims=(0, None))(part.samples, x.detach())
                          for _, part in posterior.chunks(chunk)])  # fmt: skip


# The explainers (explainers.REGISTRY): the reference code's rule comparison applies one
# rule to every layer; epsilon_gamma_box is zennit's recommended composite for conv nets.
gamma_heatmaps = partial(sample_heatmaps, composite_name="gamma")
zplus_heatmaps = partial(sample_heatmaps, composite_name="zplus")
epsilon_gamma_box_heatmaps = partial(sample_heatmaps, composite_name="epsilon_gamma_box")
