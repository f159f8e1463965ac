"""APGD and Square (torchattacks) against posteriors: the predictive they attack, against a
slow reference; their adversarials against closed-form optima and our own PGD."""

import math

import pytest
import torch
from torch import nn

from bayeslrp import build_model
from bayeslrp.attacks import run_attack
from bayeslrp.posterior import Posterior, from_state_dict
from bayeslrp.predictive_model import PredictiveLogits

pytestmark = pytest.mark.usefixtures("float64")


def stacked(model, draws=1):
    single = from_state_dict(model.state_dict())
    return Posterior(model, {k: v.repeat(draws, *[1] * (v.dim() - 1)) for k, v in single.items()})


def random_posterior(arch, hidden, draws, seed):
    g = torch.Generator().manual_seed(seed)
    model = build_model(arch, hidden).double()
    samples = {k: v.unsqueeze(0) + 0.3 * torch.randn(draws, *v.shape, generator=g)
               for k, v in model.state_dict().items()}  # fmt: skip
    return Posterior(model, samples)


def test_the_attacked_output_is_the_log_predictive_and_its_gradient_a_slow_loop():
    posterior = random_posterior("fc", 8, 5, 0)
    x = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 3, 4, 5])
    inputs = x.clone().requires_grad_(True)
    model = PredictiveLogits(posterior, chunk=2)
    out = model(inputs)
    torch.testing.assert_close(out.softmax(1), posterior.predict_proba(x))
    (ours,) = torch.autograd.grad(nn.functional.cross_entropy(out, y, reduction="sum"), inputs)
    # reference: one network per draw, the mean softmax, its NLL
    reference_inputs = x.clone().requires_grad_(True)
    proba = 0
    for s in range(len(posterior)):
        net = build_model("fc", 8).double()
        net.load_state_dict(posterior.sample(s))
        proba = proba + net(reference_inputs).softmax(1) / len(posterior)
    nll = -proba.gather(1, y[:, None]).log().sum()
    (expected,) = torch.autograd.grad(nll, reference_inputs)
    torch.testing.assert_close(ours, expected)
    assert model.forward_passes == 6 * 5
    assert torch.equal(model.first_input, x)


def linear_problem(seed, n=60, classes=4):
    """A linear net on 6 pixels and its own predictions as labels. With classes = 3 the
    third class's bias of -50 keeps it out of every prediction: two competing classes."""
    g = torch.Generator().manual_seed(seed)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, classes)).double()
    with torch.no_grad():
        model[1].weight.copy_(torch.randn(classes, 6, generator=g))
        model[1].bias.copy_(0.3 * torch.randn(classes, generator=g))
        if classes == 3:
            model[1].bias[2] = -50.0
    x = torch.rand(n, 1, 2, 3, generator=g, dtype=torch.float64)
    y = model(x).argmax(1)
    return model, x, y


def best_margin(model, x, y, epsilon):
    """Closed form for a linear net: the largest (z_j - z_y) over the L-inf ball in [0, 1],
    per point: for each j a linear objective, maximised at clip(x + eps sign(w_j - w_y))."""
    W = model[1].weight
    best = torch.full((len(x),), -math.inf, dtype=x.dtype)
    for j in range(W.shape[0]):
        direction = (W[j] - W[y]).view_as(x)  # [N, 1, 2, 3]
        logits = model((x + epsilon * direction.sign()).clamp(0, 1))
        margin = logits[:, j] - logits.gather(1, y[:, None])[:, 0]
        best = torch.where(y != j, best.maximum(margin), best)
    return best


@pytest.mark.parametrize("name", ["apgd_ce", "apgd_dlr"])
def test_apgd_finds_every_adversarial_a_two_class_linear_net_has(name):
    # With two competing classes both losses grow with the one margin, so a point has an
    # adversarial iff the loss's maximum in the ball is one. (With more classes an
    # untargeted attack can follow the wrong rival: that is what APGD-T is for.)
    model, x, y = linear_problem(0, classes=3)
    epsilon = 0.15
    optimum = best_margin(model, x, y, epsilon)
    result = run_attack(stacked(model), x, y, attack=name, epsilon=epsilon, steps=50,
                        generator=torch.Generator().manual_seed(0))  # fmt: skip
    adversarial = result["adversarial"]
    assert (adversarial - x).abs().max() <= epsilon + 1e-12
    assert adversarial.min() >= 0 and adversarial.max() <= 1
    fooled = model(adversarial).argmax(1) != y
    clear = optimum.abs() > 0.05  # points whose answer does not hinge on the last step
    assert clear.sum() >= 20 and (optimum[clear] > 0).any() and (optimum[clear] < 0).any()
    torch.testing.assert_close(fooled[clear], optimum[clear] > 0, rtol=0, atol=0)
    assert not result["zero_gradient_start"].any()


def test_apgd_is_at_least_as_strong_as_our_pgd_on_a_deterministic_net():
    torch.manual_seed(0)
    model = build_model("fc", 32).double()
    posterior = stacked(model)
    x = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    y = posterior.predict_proba(x).argmax(1)

    def success(attack, **settings):
        out = run_attack(posterior, x, y, attack=attack, epsilon=0.01,
                         generator=torch.Generator().manual_seed(0), **settings)  # fmt: skip
        return (posterior.predict_proba(out["adversarial"]).argmax(1) != y).double().mean()

    pgd = success("pgd", steps=20, step_size=0.0025, random_start=True)
    assert 0.1 < pgd < 0.9  # the budget leaves room to tell a strong attack from a weak one
    # one point in 200 is 0.005: APGD may lose a borderline point or two to PGD's start
    assert success("apgd_ce", steps=20) >= pgd - 0.02
    assert success("apgd_dlr", steps=20) >= pgd - 0.02


def test_apgd_against_identical_draws_is_the_attack_on_one_net():
    model = build_model("fc", 8).double()
    x = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    y = torch.arange(10)
    one, five = (
        run_attack(stacked(model, d), x, y, attack="apgd_dlr", epsilon=0.1, steps=10,
                   generator=torch.Generator().manual_seed(7))
        for d in (1, 5)
    )  # fmt: skip
    torch.testing.assert_close(five["adversarial"], one["adversarial"])
    torch.testing.assert_close(five["start"], one["start"])
    assert not torch.equal(one["start"], x)  # APGD's own random start was recorded


def test_square_starts_at_x_counts_its_queries_and_beats_noise():
    model, x, y = linear_problem(1, n=80)
    posterior = stacked(model, 3)
    budget, epsilon = 100, 0.15
    result = run_attack(posterior, x, y, attack="square", epsilon=epsilon, queries=budget,
                        generator=torch.Generator().manual_seed(0))  # fmt: skip
    adversarial = result["adversarial"]
    assert (adversarial - x).abs().max() <= epsilon + 1e-12
    # it starts at x: its random stripes are its first query, and every point moved
    assert torch.equal(result["start"], x) and result["moved"].all()

    def margin(points):
        logits = model(points)
        other = logits.scatter(1, y[:, None], -math.inf).amax(1)
        return logits.gather(1, y[:, None])[:, 0] - other

    fooled = margin(adversarial) < 0
    queries = result["queries"]
    assert (queries >= 1).all() and (queries <= budget + 1).all()
    assert (queries[~fooled] == budget + 1).all()  # the start's query, then the budget
    assert not result["zero_gradient_start"].any()  # no gradient taken, none flagged
    noise = run_attack(posterior, x, y, attack="noise", epsilon=epsilon,
                       generator=torch.Generator().manual_seed(0))["adversarial"]  # fmt: skip
    assert fooled.sum() > (margin(noise) < 0).sum()
