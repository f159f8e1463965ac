"""Attacks on the explanation (explanation_attacks.py) and the twice-differentiable
epsilon-LRP they differentiate (smooth_lrp.py), with the beta-smoothed explainer."""

import numpy as np
import pytest
import torch

from bayeslrp import lrp, smooth_lrp
from bayeslrp.explanation_attacks import explanation_attack, normalised, partners
from bayeslrp.models import LEARNABLE_LAYERS, build_model
from bayeslrp.posterior import Posterior
from bayeslrp.topk import overlap


def network(arch, hidden, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    return build_model(arch, hidden).to(dtype)


def weights(net):
    return {k: v.detach() for k, v in net.state_dict().items()}


def stack(*params):
    return {k: torch.stack([p[k] for p in params]) for k in params[0]}


def images(count, seed=1, dtype=torch.float64):
    return torch.rand(count, 1, 28, 28, generator=torch.Generator().manual_seed(seed),
                      dtype=dtype)  # fmt: skip


@pytest.mark.parametrize("arch, hidden", [("fc", 32), ("conv", 6)])
@pytest.mark.parametrize("inner_start", ["max_unit", "all_units"])
def test_the_written_out_backward_pass_is_lrps_modified_gradient(arch, hidden, inner_start):
    net, x = network(arch, hidden), images(4)
    for layer in LEARNABLE_LAYERS[arch]:
        expected = lrp.epsilon_lrp(net, x, layer, 0.1, inner_start=inner_start)
        heat, z = smooth_lrp.heatmap_and_output(net, weights(net), x, layer=layer,
                                                inner_start=inner_start, beta=None)  # fmt: skip
        torch.testing.assert_close(heat, expected, rtol=1e-10, atol=1e-14)
    torch.testing.assert_close(z, net(x))  # the last layer explained: z are the logits


def test_beta_lrp_follows_the_epsilon_rule_on_the_softplus_network():
    """A slow reference from the definition, in numpy: R_j = sum_k a_j w_jk R_k / (z_k +
    eps sign z_k) through the Linear layers, relevance passed unchanged through each
    activation a = 0.01 z + 0.99 softplus_beta(z), relevance 1 on the predicted logit."""
    net, x = network("fc", 16), images(3)
    beta, eps = 2.0, 0.1
    heat = smooth_lrp.sample_heatmaps(Posterior(net, stack(weights(net))), x, layer=5,
                                      epsilon=eps, beta=beta)[0]  # fmt: skip
    linear = [(m.weight.detach().numpy(), m.bias.detach().numpy()) for m in net if
              isinstance(m, torch.nn.Linear)]  # fmt: skip
    for i in range(len(x)):
        inputs = [x[i].flatten().numpy()]
        for index, (w, b) in enumerate(linear):
            z = w @ inputs[-1] + b
            if index < 2:
                inputs.append(0.01 * z + 0.99 * np.logaddexp(0, beta * z) / beta)
        relevance = np.zeros_like(z)
        relevance[z.argmax()] = 1.0
        for (w, b), a in zip(reversed(linear), reversed(inputs), strict=True):
            z = w @ a + b
            relevance = a * (w.T @ (relevance / (z + eps * np.where(z >= 0, 1, -1))))
        np.testing.assert_allclose(heat[i].flatten().numpy(), relevance, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize("arch, hidden", [("fc", 16), ("conv", 4)])
@pytest.mark.parametrize("beta", [10.0, None])
def test_the_attack_gradient_matches_finite_differences(arch, hidden, beta):
    """d/dx of <w_h, mean heatmap> + <w_p, mean softmax> over two draws, against a central
    difference along a random direction (float64, step 1e-6: error ~1e-10 relative)."""
    net = network(arch, hidden)
    other = {k: v + 0.05 * torch.randn_like(v) for k, v in weights(net).items()}
    posterior = Posterior(net, stack(weights(net), other))
    x, target = images(3), torch.tensor([1, 2, 3])
    generator = torch.Generator().manual_seed(2)
    heat_w = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    proba_w = torch.randn(3, 10, generator=generator, dtype=x.dtype)
    direction = torch.randn(x.shape, generator=generator, dtype=x.dtype)
    settings = {"epsilon": 0.1, "beta": beta}
    gradient = smooth_lrp.input_gradient(posterior, x, target, heat_w, proba_w, chunk=1,
                                         **settings)  # fmt: skip

    def value(inputs):
        heat, proba = smooth_lrp.mean_heatmap_and_proba(posterior, inputs, target, **settings)
        return ((heat * heat_w).sum() + (proba * proba_w).sum()).item()

    h = 1e-6
    numeric = (value(x + h * direction) - value(x - h * direction)) / (2 * h)
    assert (gradient * direction).sum().item() == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_partners_are_the_next_point_of_another_class():
    assert partners(torch.tensor([0, 0, 1, 2, 2])).tolist() == [2, 2, 3, 0, 0]
    assert partners(torch.tensor([3, 3, 3])).tolist() == [1, 2, 0]  # one class: next point


@pytest.mark.parametrize("objective", ["topk", "manipulation"])
def test_the_attack_moves_the_explanation_and_keeps_the_prediction(objective):
    net = network("fc", 32, dtype=torch.float32)
    posterior = Posterior(net, stack(weights(net)))
    x = images(40, dtype=torch.float32)
    before = posterior.predict_proba(x).argmax(1)
    result = explanation_attack(posterior, x, before, objective=objective, epsilon=0.1,
                                steps=20, step_size=0.01)  # fmt: skip
    adversarial = result["adversarial"]
    assert (adversarial - x).abs().max() <= 0.1 + 1e-6
    assert adversarial.min() >= 0 and adversarial.max() <= 1
    assert (posterior.predict_proba(adversarial).argmax(1) == before).all()
    start, end = result["explanation_objective_start"], result["explanation_objective"]
    assert (end <= start).all()
    assert result["moved"].float().mean() > 0.5
    # Against uniform noise in the same ball (kept only where it keeps the prediction, as
    # the attack's iterates are), the attack moves the explanation further.
    noise = (x + 0.1 * (2 * torch.rand(x.shape, generator=torch.Generator().manual_seed(3))
                        - 1)).clamp(0, 1)  # fmt: skip
    kept = posterior.predict_proba(noise).argmax(1) == before
    noise[~kept] = x[~kept]

    def heat(inputs):
        return smooth_lrp.mean_heatmap_and_proba(posterior, inputs, before, epsilon=0.1,
                                                 beta=None)[0]  # fmt: skip

    clean = heat(x)
    if objective == "topk":
        attacked, noisy = overlap(clean, heat(adversarial), 10), overlap(clean, heat(noise), 10)
    else:  # distance to the partner's heatmap (the target)
        goal = normalised(clean)[partners(before)]
        attacked = (normalised(heat(adversarial)) - goal).pow(2).sum(1)
        noisy = (normalised(heat(noise)) - goal).pow(2).sum(1)
    assert attacked.nanmean() < noisy.nanmean()


@pytest.mark.parametrize("objective", ["topk", "manipulation"])
def test_identical_draws_are_attacked_as_the_single_net(objective):
    """The Bayesian attack follows the mean heatmap: two copies of one net (exact in
    binary floating point: a sum of two equal terms halved) give the single net's attack."""
    net = network("fc", 16)
    x = images(10)
    single, twice = Posterior(net, stack(weights(net))), Posterior(net, stack(weights(net),
                                                                              weights(net)))
    settings = {"objective": objective, "epsilon": 0.1, "steps": 4, "step_size": 0.03,
                "beta": 10.0}
    one = explanation_attack(single, x, None, **settings)["adversarial"]
    two = explanation_attack(twice, x, None, **settings)["adversarial"]
    torch.testing.assert_close(one, two, rtol=0, atol=0)


def test_bad_settings_fail_before_any_work():
    posterior = Posterior(network("fc", 8), stack(weights(network("fc", 8))))
    with pytest.raises(ValueError, match="unknown explanation attack"):
        explanation_attack(posterior, images(2), None, objective="region", epsilon=0.1,
                           steps=1, step_size=0.1)  # fmt: skip
    with pytest.raises(ValueError, match="steps must be >= 1"):
        explanation_attack(posterior, images(2), None, objective="topk", epsilon=0.1,
                           steps=0, step_size=0.1)  # fmt: skip
