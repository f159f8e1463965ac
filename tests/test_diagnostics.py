"""Gradient masking: a saturated net defeats cross-entropy attacks, not logit-margin ones,
and the diagnostics say so."""

import torch
from torch import nn

from bayeslrp import build_model
from bayeslrp.attacks import attack, run_attack
from bayeslrp.baselines import baseline_heatmaps, gradient_x_input
from bayeslrp.diagnostics import gradient_masking, weight_magnitude
from bayeslrp.metrics import perturbed
from bayeslrp.posterior import Posterior
from bayeslrp.topk import overlap as lrp_robustness


def saturated_posterior(samples=3, scale=40.0):
    """One fc net's PyTorch init times scale, 1.1 scale, ...: with a large scale the logits
    are in the thousands and every sample predicts the same class."""
    torch.manual_seed(0)
    state = build_model("fc", 16).state_dict()
    return {k: torch.stack([v * scale * (1 + 0.1 * s) for s in range(samples)])
            for k, v in state.items()}  # fmt: skip


def test_saturated_net_masks_cross_entropy_but_not_the_logit_margin():
    model = build_model("fc", 16)
    posterior = saturated_posterior()
    x = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1
    y = Posterior(model, posterior).predict_proba(x).argmax(1)  # correctly classified: p(y) == 1.0
    settings = {"attack": "fgsm", "epsilon": 0.1}
    masked = attack(Posterior(model, posterior), x, y, loss="cross_entropy", **settings)
    margin = attack(Posterior(model, posterior), x, y, loss="logit_margin", **settings)
    assert torch.equal(masked, x)  # the cross-entropy gradient underflowed to exactly zero
    assert ((margin - x).flatten(1).abs().amax(1) > 0.05).all()  # every input moved

    flagged = gradient_masking(Posterior(model, posterior), x, y, loss="cross_entropy")
    assert not perturbed(x, masked).any() and flagged["zero_gradient_fraction"] == 1.0
    assert flagged["saturated_fraction"] == 1.0 and flagged["logit_abs_mean"] > 100
    clean = gradient_masking(Posterior(model, posterior), x, y, loss="logit_margin")
    assert perturbed(x, margin).all() and clean["zero_gradient_fraction"] == 0.0


def test_an_ordinary_net_is_not_flagged():
    model = build_model("fc", 16)
    posterior = saturated_posterior(samples=2, scale=1.0)
    x = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    y = torch.arange(30) % 10
    x_adv = attack(Posterior(model, posterior), x, y, attack="fgsm", epsilon=0.1)
    flags = gradient_masking(Posterior(model, posterior), x, y)
    assert perturbed(x, x_adv).all() and flags["zero_gradient_fraction"] == 0.0
    assert flags["saturated_fraction"] < 0.5 and flags["logit_abs_mean"] < 10


def test_logit_margin_fgsm_on_a_linear_model_matches_the_closed_form():
    g = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 3))
    weights = {
        "1.weight": torch.randn(1, 3, 6, generator=g),
        "1.bias": torch.randn(1, 3, generator=g),
    }
    x = torch.rand(5, 1, 2, 3, generator=g)
    y = torch.tensor([0, 1, 2, 0, 1])
    logits = x.flatten(1) @ weights["1.weight"][0].T + weights["1.bias"][0]
    rival = logits.scatter(1, y.view(-1, 1), float("-inf")).argmax(1)
    W = weights["1.weight"][0]
    grad = W[rival] - W[y]  # d (z_rival - z_y) / dx
    expected = (x + 0.2 * grad.sign().view_as(x)).clamp(0, 1)
    got = attack(Posterior(model, weights), x, y, attack="fgsm", epsilon=0.2, loss="logit_margin")
    torch.testing.assert_close(got, expected)


def test_weight_magnitude_per_layer():
    posterior = saturated_posterior(samples=2, scale=1.0)
    sizes = weight_magnitude(posterior, "fc")
    assert set(sizes) == {1, 3, 5}
    assert abs(sizes[1] - posterior["1.weight"].abs().mean().item()) < 1e-7
    assert weight_magnitude(saturated_posterior(samples=2, scale=10.0), "fc")[3] > 5 * sizes[3]


def test_gradient_x_input_of_a_linear_model_is_weight_times_input():
    g = torch.Generator().manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 3))
    weights = {
        "1.weight": torch.randn(2, 3, 6, generator=g),
        "1.bias": torch.randn(2, 3, generator=g),
    }
    x = torch.rand(4, 1, 2, 3, generator=g)
    target = torch.tensor([0, 2, 1, 0])
    expected = weights["1.weight"].mean(0)[target].view_as(x) * x
    got = gradient_x_input(Posterior(model, weights), x, target, chunk=1)
    torch.testing.assert_close(got, expected)


def test_baselines_have_the_documented_behaviour():
    model = build_model("fc", 8)
    posterior = saturated_posterior(samples=2, scale=1.0)
    x = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    target = Posterior(model, posterior).predict_proba(x).argmax(1)
    clean = gradient_x_input(Posterior(model, posterior), x, target)
    heat = baseline_heatmaps(Posterior(model, posterior), x, x.clone(), clean, target,
                             torch.Generator().manual_seed(1))  # fmt: skip
    # an unchanged input: the input and gradient x input baselines are perfectly robust ...
    for name in ("input", "gradient_x_input"):
        assert lrp_robustness(*heat[name], 100).eq(1.0).all(), name
    # ... and random heatmaps overlap by chance, k / 784 on average (hypergeometric: std of
    # one point's overlap 0.031, of the mean over 200 points 0.0022; 0.02 is 9 errors)
    chance = lrp_robustness(*heat["random"], 100).mean().item()
    assert abs(chance - 100 / 784) < 0.02


def test_pgd_random_start_does_not_hide_a_masked_gradient():
    model = build_model("fc", 16)
    posterior = saturated_posterior()
    x = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1
    y = Posterior(model, posterior).predict_proba(x).argmax(1)
    settings = {"attack": "pgd", "epsilon": 0.1, "steps": 5, "step_size": 0.02,
                "random_start": True}  # fmt: skip
    masked = run_attack(Posterior(model, posterior), x, y, loss="cross_entropy",
                        generator=torch.Generator().manual_seed(0), **settings)  # fmt: skip
    # the random start moved every input away from x ...
    assert perturbed(x, masked["adversarial"]).all()
    # ... but no gradient step moved it from the start: the output is the noise itself
    assert torch.equal(masked["adversarial"], masked["start"])
    assert not masked["moved"].any()
    assert masked["zero_gradient_start"].all() and masked["zero_gradient_last"].all()
    margin = run_attack(Posterior(model, posterior), x, y, loss="logit_margin",
                        generator=torch.Generator().manual_seed(0), **settings)  # fmt: skip
    assert margin["moved"].all() and not margin["zero_gradient_start"].any()


def test_mean_adversarial_reports_movement_of_the_per_sample_paths():
    model = build_model("fc", 16)
    x = torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 0.8 + 0.1
    # a small ball: the random start must not flip a saturated prediction
    settings = {"attack": "pgd", "epsilon": 0.002, "steps": 2, "step_size": 0.001,
                "random_start": True, "bayes": "mean_adversarial"}  # fmt: skip
    saturated = saturated_posterior(scale=400.0)  # every sample saturated on every point
    y = Posterior(model, saturated).predict_proba(x).argmax(1)
    masked = run_attack(Posterior(model, saturated), x, y,
                        generator=torch.Generator().manual_seed(0),
                        **settings)  # fmt: skip
    assert not masked["moved"].any() and masked["start"].shape == x.shape
    torch.testing.assert_close(masked["adversarial"], masked["start"])
    ordinary = saturated_posterior(scale=1.0)
    y = Posterior(model, ordinary).predict_proba(x).argmax(1)
    result = run_attack(Posterior(model, ordinary), x, y,
                        generator=torch.Generator().manual_seed(0),
                        **settings)  # fmt: skip
    assert result["moved"].all() and not result["zero_gradient_start"].any()
