"""Epsilon-LRP against a slow implementation written straight from the rule's formula."""

import pytest
import torch
from torch import nn

from bayeslrp import build_model
from bayeslrp.explainers import bayesian_heatmaps
from bayeslrp.lrp import epsilon_lrp, sample_relevance
from bayeslrp.posterior import Posterior, from_state_dict

pytestmark = pytest.mark.usefixtures("float64")


def slow_epsilon_rule(a, W, b, R_out, eps):
    """R_j = sum_k a_j w_jk / (z_k + eps sign(z_k)) R_k, z_k = sum_j a_j w_jk + b_k; loops."""
    n_in, n_out = W.shape[1], W.shape[0]
    z = [sum(a[j] * W[k, j] for j in range(n_in)) + b[k] for k in range(n_out)]
    s = [z[k] + eps * (1.0 if z[k] >= 0 else -1.0) for k in range(n_out)]
    return torch.stack(
        [sum(a[j] * W[k, j] / s[k] * R_out[k] for k in range(n_out)) for j in range(n_in)]
    )


def slow_lrp_fc(model, x, target, eps):
    """Layer by layer over a Flatten/Linear/LeakyReLU stack, one image at a time."""
    activations = [x.flatten()]
    for module in model:
        activations.append(module(activations[-1].unsqueeze(0)).squeeze(0).detach())
    R = torch.zeros(activations[-1].shape)
    R[target] = 1.0
    for i in reversed(range(len(model))):
        if isinstance(model[i], nn.Linear):
            R = slow_epsilon_rule(activations[i], model[i].weight, model[i].bias, R, eps)
        # LeakyReLU passes relevance unchanged; Flatten only reshapes.
    return R.view_as(x)


def tiny_fc(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(12, 7), nn.LeakyReLU(), nn.Linear(7, 5), nn.LeakyReLU(),
        nn.Linear(5, 4),
    )  # fmt: skip


@pytest.mark.parametrize("eps", [0.1, 1e-3])
def test_native_lrp_matches_the_slow_formula(eps):
    model = tiny_fc()
    x = torch.rand(6, 1, 3, 4)
    target = torch.tensor([0, 1, 2, 3, 0, 1])
    fast = epsilon_lrp(model, x, layer=5, epsilon=eps, target=target)
    for i in range(len(x)):
        torch.testing.assert_close(fast[i], slow_lrp_fc(model, x[i], target[i].item(), eps))


def test_default_target_is_the_predicted_class():
    model = tiny_fc(1)
    x = torch.rand(4, 1, 3, 4)
    predicted = model(x).argmax(1)
    torch.testing.assert_close(epsilon_lrp(model, x, 5), epsilon_lrp(model, x, 5, target=predicted))


def _zero_biases(model):
    with torch.no_grad():
        for m in model:
            if isinstance(m, (nn.Linear, nn.Conv2d)):
                m.bias.zero_()
    return model


@pytest.mark.parametrize("arch", ["fc", "conv"])
def test_relevance_is_conserved_without_bias_and_epsilon(arch):
    torch.manual_seed(0)
    model = _zero_biases(build_model(arch, 8).double())
    x = torch.rand(5, 1, 28, 28)
    heat = epsilon_lrp(model, x, layer=len(model) - 1, epsilon=1e-9)
    torch.testing.assert_close(heat.flatten(1).sum(1), torch.ones(5), rtol=1e-5, atol=1e-6)


def test_conv_lrp_matches_the_formula_on_the_equivalent_dense_layer():
    """A conv layer is a Linear layer with a structured matrix; the rule must not care."""
    torch.manual_seed(0)
    conv = nn.Conv2d(1, 2, 3)
    model = nn.Sequential(conv, nn.LeakyReLU(), nn.Flatten(), nn.Linear(2 * 3 * 3, 3))
    x = torch.rand(2, 1, 5, 5)
    eye = torch.eye(25).view(25, 1, 5, 5)
    W = (conv(eye) - conv.bias.view(1, -1, 1, 1)).flatten(1).T.detach()  # [18, 25]
    b = conv.bias.detach().repeat_interleave(9)
    dense = nn.Sequential(nn.Flatten(), nn.Linear(25, 18), nn.LeakyReLU(), nn.Linear(18, 3))
    with torch.no_grad():
        dense[1].weight.copy_(W)
        dense[1].bias.copy_(b)
        dense[3].load_state_dict(model[3].state_dict())
    target = torch.tensor([2, 0])
    fast = epsilon_lrp(model, x, layer=3, epsilon=0.1, target=target)
    for i in range(2):
        torch.testing.assert_close(fast[i], slow_lrp_fc(dense, x[i], target[i].item(), 0.1))


def test_maxpool_routes_relevance_to_the_winning_input():
    pool = nn.Sequential(nn.Conv2d(1, 1, 1), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1, 1))
    with torch.no_grad():
        pool[0].weight.fill_(1.0)
        pool[0].bias.zero_()
        pool[3].weight.fill_(1.0)
        pool[3].bias.zero_()
    x = torch.tensor([[[[0.1, 0.9], [0.3, 0.2]]]])
    heat = epsilon_lrp(pool, x, layer=3, epsilon=1e-9, target=torch.tensor([0]))
    torch.testing.assert_close(heat, torch.tensor([[[[0.0, 1.0], [0.0, 0.0]]]]))


def test_inner_layer_starts_at_its_most_active_unit():
    """Explaining inner layer 3 equals explaining, as an output, its most active unit."""
    model = tiny_fc(2)
    x = torch.rand(3, 1, 3, 4)
    after_activation = nn.Sequential(*list(model)[:5])
    unit = after_activation(x).argmax(1)
    identity = nn.Linear(5, 5, bias=False)
    with torch.no_grad():
        identity.weight.copy_(torch.eye(5))
    # The identity head adds one epsilon-rule step, exact as epsilon -> 0.
    as_output = nn.Sequential(*list(model)[:5], identity)
    torch.testing.assert_close(
        epsilon_lrp(model, x, layer=3, epsilon=1e-10),
        epsilon_lrp(as_output, x, layer=5, epsilon=1e-10, target=unit),
    )


def random_posterior(arch, samples, hidden=4):
    nets = [build_model(arch, hidden).double() for _ in range(samples)]
    return nets[0], {
        k: torch.stack([n.state_dict()[k] for n in nets]) for k in nets[0].state_dict()
    }


@pytest.mark.parametrize(("arch", "layers"), [("fc", (1, 3, 5)), ("conv", (0, 3, 7))])
def test_vectorised_sample_heatmaps_equal_one_network_at_a_time(arch, layers):
    torch.manual_seed(0)
    model, posterior = random_posterior(arch, 5)
    stack = Posterior(model, posterior)
    x = torch.rand(3, 1, 28, 28)
    for layer in layers:
        for start in ("max_unit", "all_units"):
            fast = sample_relevance(stack, x, layer=layer, inner_start=start, chunk=2)
            loop = sample_relevance(stack, x, layer=layer, inner_start=start, chunk=1)
            for s in range(5):
                model.load_state_dict({k: v[s] for k, v in posterior.items()})
                expected = epsilon_lrp(model, x, layer, 0.1, None, start)
                torch.testing.assert_close(fast[s], expected)
                torch.testing.assert_close(loop[s], expected)


def test_bayesian_mean_over_identical_samples_equals_the_deterministic_heatmap():
    model = build_model("conv", 4).double()
    x = torch.rand(3, 1, 28, 28)
    target = model(x).argmax(1)
    posterior = from_state_dict(model.state_dict())
    repeated = {k: v.repeat(4, *[1] * (v.dim() - 1)) for k, v in posterior.items()}
    mean = bayesian_heatmaps("lrp", Posterior(model, repeated), x, 7, [4], {4: target})[4]
    torch.testing.assert_close(mean, epsilon_lrp(model, x, 7, 0.1, target))


@pytest.mark.parametrize("layer", [1, 5])
def test_running_sums_equal_direct_computation_for_every_n(layer):
    torch.manual_seed(1)
    model, posterior = random_posterior("fc", 10, hidden=6)
    stack = Posterior(model, posterior)
    x = torch.rand(40, 1, 28, 28)
    ns = [1, 3, 10]
    targets = None
    if layer == 5:
        targets = {n: stack.take(n).predict_proba(x).argmax(1) for n in ns}
        # Random nets disagree often, so the per-point recomputation path is exercised.
        assert (targets[1] != targets[10]).any()
    running = bayesian_heatmaps("lrp", stack, x, layer, ns, targets, chunk=4)
    for n in ns:
        target = None if targets is None else targets[n]
        direct = sample_relevance(stack.take(n), x, layer=layer, target=target).mean(0)
        torch.testing.assert_close(running[n], direct)


@pytest.mark.parametrize(("arch", "layers"), [("fc", (1, 3, 5)), ("conv", (0, 3, 7))])
def test_native_and_captum_backends_agree(arch, layers):
    torch.manual_seed(2)
    model, posterior = random_posterior(arch, 3, hidden=6)
    stack = Posterior(model, posterior)
    x = torch.rand(5, 1, 28, 28)
    for layer in layers:
        native = sample_relevance(stack, x, layer=layer)
        captum = sample_relevance(stack, x, layer=layer, backend="captum")
        scale = native.abs().amax()
        assert (native - captum).abs().max() <= 1e-5 * scale, (layer, scale)


def test_captum_backend_matches_the_slow_formula():
    model = tiny_fc(4)
    x = torch.rand(3, 1, 3, 4)
    target = torch.tensor([1, 3, 0])
    single = Posterior(model, from_state_dict(model.state_dict()))
    heat = sample_relevance(single, x, layer=5, target=target, backend="captum")[0]
    for i in range(3):
        torch.testing.assert_close(heat[i], slow_lrp_fc(model, x[i], target[i].item(), 0.1))


def test_per_sample_target_explains_each_samples_own_class():
    # lrp.target: per_sample = no ensemble target: sample s explains its own argmax.
    torch.manual_seed(2)
    model, posterior = random_posterior("fc", 6, hidden=6)
    stack = Posterior(model, posterior)
    x = torch.rand(30, 1, 28, 28)
    per_sample = bayesian_heatmaps("lrp", stack, x, 5, [6], None, chunk=4)[6]
    expected = torch.zeros_like(x)
    own = []
    for s in range(6):
        model.load_state_dict({k: v[s] for k, v in posterior.items()})
        own.append(model(x).argmax(1))
        expected += epsilon_lrp(model, x, 5, 0.1, own[-1]) / 6
    torch.testing.assert_close(per_sample, expected)
    ensemble = stack.predict_proba(x).argmax(1)
    assert any((o != ensemble).any() for o in own)  # the two targets really differ here
    with_ensemble = bayesian_heatmaps("lrp", stack, x, 5, [6], {6: ensemble})[6]
    assert not torch.allclose(with_ensemble, per_sample)
