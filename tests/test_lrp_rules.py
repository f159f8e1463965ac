"""LRP rules beyond epsilon (lrp_rules.py) against zennit, the independent implementation
whose rules they follow, and the backward pass's epsilon rule against lrp.py."""

import pytest
import torch
from torch import nn
from zennit.composites import EpsilonGammaBox, LayerMapComposite
from zennit.rules import Gamma, Pass, ZPlus
from zennit.types import Activation

from bayeslrp import build_model, explainers, lrp_rules
from bayeslrp.lrp import sample_relevance
from bayeslrp.posterior import Posterior

pytestmark = pytest.mark.usefixtures("float64")
LAYERS = {"fc": (1, 3, 5), "conv": (0, 3, 7)}
SETTINGS = {"gamma": {"gamma": 0.25, "stabilizer": 1e-6}, "zplus": {"stabilizer": 1e-6},
            "epsilon_gamma_box": {"epsilon": 1e-6, "gamma": 0.25, "stabilizer": 1e-6}}  # fmt: skip


def random_posterior(arch, samples, hidden=6, seed=3):
    torch.manual_seed(seed)
    nets = [build_model(arch, hidden).double() for _ in range(samples)]
    for net in nets:  # biases of both signs and some size, so every rule's bias terms count
        for module in net:
            if isinstance(module, (nn.Linear, nn.Conv2d)):
                nn.init.normal_(module.bias, 0.0, 0.3)
    state = {k: torch.stack([n.state_dict()[k] for n in nets]) for k in nets[0].state_dict()}
    return Posterior(nets[0], state)


def zennit_composite(name):
    """zennit's own composite for our explainer `name` (Pass on every activation)."""
    settings = SETTINGS[name]
    if name == "epsilon_gamma_box":
        return EpsilonGammaBox(low=0.0, high=1.0, **settings)
    rule = Gamma(**settings) if name == "gamma" else ZPlus(**settings)
    return LayerMapComposite([(Activation, Pass()), ((nn.Linear, nn.Conv2d), rule)])


def zennit_heatmap(net, x, layer, name, target):
    """zennit's relevance of one network: relevance 1 on the target logit, or on the most
    active unit of an inner layer's activation (which net[: layer + 2] ends with)."""
    is_output = layer == len(net) - 1
    head = net[: layer + 1] if is_output else net[: layer + 2]
    inputs = x.clone().requires_grad_(True)
    with zennit_composite(name).context(head) as hooked:
        out = hooked(inputs).flatten(1)
        unit = target if is_output else out.detach().argmax(1)
        seed = torch.nn.functional.one_hot(unit, out.shape[1]).to(out.dtype)
        (relevance,) = torch.autograd.grad(out, inputs, grad_outputs=seed)
    return relevance


@pytest.mark.parametrize("arch", ["fc", "conv"])
@pytest.mark.parametrize("name", ["gamma", "zplus", "epsilon_gamma_box"])
def test_every_rule_and_layer_matches_zennit(arch, name):
    stack = random_posterior(arch, 3)
    x = torch.rand(5, 1, 28, 28)
    target = torch.tensor([0, 3, 9, 1, 4])
    for layer in LAYERS[arch]:
        heat = explainers.sample_heatmaps(f"lrp_{name}", stack, x, layer=layer, target=target,
                                          chunk=2, **SETTINGS[name])  # fmt: skip
        for s in range(len(stack)):
            net = build_model(arch, 6).double()
            net.load_state_dict(stack.sample(s))
            expected = zennit_heatmap(net, x, layer, name, target)
            torch.testing.assert_close(heat[s], expected, rtol=1e-7, atol=1e-10)


@pytest.mark.parametrize("arch", ["fc", "conv"])
@pytest.mark.parametrize("start", ["max_unit", "all_units"])
def test_the_backward_pass_with_the_epsilon_rule_is_lrp_py(arch, start):
    """The generic backward pass, epsilon everywhere, against lrp.py's modified gradient:
    checks the seeds, the pass rule and the MaxPool/Flatten routing, every layer."""
    stack = random_posterior(arch, 2)
    x = torch.rand(4, 1, 28, 28)
    for layer in LAYERS[arch]:
        ours = lrp_rules.sample_heatmaps(stack, x, composite_name="epsilon", layer=layer,
                                         inner_start=start, epsilon=0.1)  # fmt: skip
        reference = sample_relevance(stack, x, layer=layer, inner_start=start, epsilon=0.1)
        torch.testing.assert_close(ours, reference)


def test_zplus_relevance_is_positive_and_conserved_without_biases():
    """alpha1-beta0 with zero biases: every input relevance is >= 0 and they sum to the
    seed of 1 (each layer redistributes all of it), as the rule is built to."""
    stack = random_posterior("fc", 2)
    for key in stack.samples:
        if key.endswith("bias"):
            stack.samples[key].zero_()
    x = torch.rand(6, 1, 28, 28)
    heat = explainers.sample_heatmaps("lrp_zplus", stack, x, layer=5, stabilizer=1e-12)
    assert heat.ge(0).all()
    torch.testing.assert_close(heat.flatten(2).sum(2), torch.ones(2, 6))


def test_gamma_zero_is_the_epsilon_rule_at_the_same_stabiliser():
    stack = random_posterior("conv", 2)
    x = torch.rand(3, 1, 28, 28)
    gamma = explainers.sample_heatmaps("lrp_gamma", stack, x, layer=7, gamma=0.0,
                                       stabilizer=1e-3)  # fmt: skip
    torch.testing.assert_close(gamma, sample_relevance(stack, x, layer=7, epsilon=1e-3))


def test_an_unknown_composite_is_refused():
    with pytest.raises(ValueError, match="unknown LRP composite 'alpha2beta1'"):
        lrp_rules.composite("alpha2beta1")
