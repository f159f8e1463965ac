"""The posterior families of the generic fit_posterior rule (names.FITTED), each on a
problem with a known answer."""

from functools import partial

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from bayeslrp import inference, weight_noise
from bayeslrp.models import build_model
from bayeslrp.names import FITTED
from bayeslrp.posterior import Posterior, from_state_dict


def tiny_train(n=256, seed=0):
    """A stored training set (uint8 images, labels) as the data rule writes it."""
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 28, 28), generator=g, dtype=torch.uint8)
    return {"images": images, "labels": torch.randint(0, 10, (n,), generator=g)}


DET = {"epochs": 1, "lr": 1e-3, "batch_size": 64, "train_size": None}


def fit(family, settings, base=None, seed=0):
    torch.manual_seed(seed)  # initialisations, as seed_everything does in the job
    return inference.fit_function(family)(
        partial(build_model, "fc", 8), tiny_train(), base, settings,
        generator=torch.Generator().manual_seed(seed), device=torch.device("cpu"),
    )  # fmt: skip


def test_every_family_resolves_to_a_fit_function_and_unknown_ones_fail():
    for family, spec in FITTED.items():
        assert inference.fit_function(family).__module__ == f"bayeslrp.{spec.module}"
    with pytest.raises(ValueError, match="not fitted by fit_posterior; choose one of"):
        inference.fit_function("hmc")


def test_the_deterministic_family_is_one_net_trained_as_train_deterministic_trains_it():
    posterior, summary = fit("det", {"det": DET})
    assert len(posterior) == 1 and summary["statistics"]["train_size"] == 256
    torch.manual_seed(0)
    model = build_model("fc", 8)
    images = tiny_train()["images"].float().div(255).unsqueeze(1)
    losses = inference.train_deterministic(
        model, images, tiny_train()["labels"], epochs=1, lr=1e-3, batch_size=64,
        generator=torch.Generator().manual_seed(0), device=torch.device("cpu"),
    )  # fmt: skip
    assert losses == summary["loss_per_epoch"]
    for name, value in model.state_dict().items():
        assert torch.equal(posterior.samples[name][0], value), name


def test_an_ensemble_stacks_distinct_members_and_its_first_is_the_det_net():
    members, summary = fit("ensemble", {"det": DET, "ensemble": {"members": 3}})
    det, _ = fit("det", {"det": DET})
    assert len(members) == 3 and summary["statistics"]["members"] == 3
    for name in det.samples:  # same seed, same first initialisation and batch order
        assert torch.equal(members.samples[name][0], det.samples[name][0]), name
    first, second = members.sample(0)["1.weight"], members.sample(1)["1.weight"]
    assert not torch.allclose(first, second)


def test_an_ensemble_of_identical_nets_predicts_as_the_net():
    det, _ = fit("det", {"det": DET})
    copies = Posterior(det.network, {k: v.expand(4, *v.shape[1:]) for k, v in det.samples.items()})
    x = torch.rand(30, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(copies.predict_proba(x), det.predict_proba(x))


def test_weight_noise_is_multiplicative_gaussian_noise_around_the_det_net():
    det, _ = fit("det", {"det": DET})
    scale, samples = 0.3, 400
    noisy, summary = fit("weight_noise", {"weight_noise": {"scale": scale}, "n_samples": samples},
                         base=det)  # fmt: skip
    assert len(noisy) == samples and summary["statistics"] == {"scale": scale, "samples": samples}
    w = det.samples["1.weight"][0]
    keep = w.abs() > 1e-3
    ratio = (noisy.samples["1.weight"] / w)[:, keep] - 1  # eps * scale, N(0, scale^2)
    # mean and std over 400 x ~6,000 draws: standard errors scale / sqrt(2.4M) = 2e-4 and
    # scale / sqrt(4.8M) = 1.4e-4; 6 standard errors
    assert abs(ratio.mean().item()) < 6 * scale / ratio.numel() ** 0.5
    assert abs(ratio.std().item() - scale) < 6 * scale / (2 * ratio.numel()) ** 0.5
    # per weight the draws are independent: the correlation of two weights' noise is ~0
    pair = torch.corrcoef(ratio[:, :2].T)[0, 1]
    assert abs(pair) < 6 / samples**0.5
    again, _ = fit("weight_noise", {"weight_noise": {"scale": scale}, "n_samples": samples},
                   base=det)  # fmt: skip
    assert torch.equal(again.samples["1.weight"], noisy.samples["1.weight"])


def test_weight_noise_needs_one_deterministic_net():
    one = from_state_dict(build_model("fc", 8).state_dict())
    two = Posterior(build_model("fc", 8), {k: torch.cat([v, v]) for k, v in one.items()})
    with pytest.raises(ValueError, match="one deterministic net"):
        weight_noise.fit(None, None, two, {"weight_noise": {"scale": 0.1}, "n_samples": 2},
                         generator=torch.Generator(), device=torch.device("cpu"))  # fmt: skip


def blr_problem(features, sigma=0.5, seed=0):
    """Targets of a Bayesian linear regression on `features` [N, d] (with a bias)."""
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(features.shape[1], generator=g, dtype=features.dtype)
    return features @ w + 0.3 + sigma * torch.randn(len(features), generator=g,
                                                    dtype=features.dtype)  # fmt: skip


def exact_posterior(features, y, sigma, precision):
    """Mean and covariance of [w, b] under N(0, 1/precision) priors and N(., sigma^2) noise."""
    phi = torch.cat([features, torch.ones(len(features), 1, dtype=features.dtype)], 1)
    cov = torch.linalg.inv(phi.T @ phi / sigma**2 + precision * torch.eye(phi.shape[1]))
    return cov @ phi.T @ y / sigma**2, cov


def check_against_exact(draws, mean, cov):
    """Sample mean and covariance of `draws` [S, P] within 6 Monte Carlo standard errors of
    the exact posterior's (a false failure rarer than 1 in 10,000 over every entry)."""
    s = len(draws)
    sd = cov.diagonal().sqrt()
    assert ((draws.mean(0) - mean).abs() < 6 * sd / s**0.5).all()
    empirical = torch.cov(draws.T)
    se = ((cov.diagonal()[:, None] * cov.diagonal()[None, :] + cov**2) / s).sqrt()
    assert ((empirical - cov).abs() < 6 * se).all()


@pytest.mark.parametrize("structure", ["full", "diag"])
def test_laplace_on_bayesian_linear_regression_is_the_exact_posterior(float64, structure):
    from bayeslrp.laplace_posterior import laplace_samples

    x = torch.randn(200, 3, generator=torch.Generator().manual_seed(1))
    sigma, precision = 0.5, 2.0
    y = blr_problem(x, sigma)
    mean, cov = exact_posterior(x, y, sigma, precision)
    model = torch.nn.Sequential(torch.nn.Linear(3, 1))
    with torch.no_grad():  # Laplace expands around the MAP, here the exact posterior mean
        model[0].weight.copy_(mean[:3].unsqueeze(0))
        model[0].bias.copy_(mean[3:])
    loader = DataLoader(TensorDataset(x, y.unsqueeze(1)), batch_size=64)
    stack, stats = laplace_samples(
        model, loader, likelihood="regression", subset_of_weights="all",
        hessian_structure=structure, prior_precision=precision, samples=20000,
        generator=torch.Generator().manual_seed(0), sigma_noise=sigma,
    )  # fmt: skip
    assert stack["0.weight"].shape == (20000, 1, 3) and stack["0.bias"].shape == (20000, 1)
    draws = torch.cat([stack["0.weight"][:, 0], stack["0.bias"]], 1)
    if structure == "diag":  # the diagonal of the exact precision, inverted
        cov = torch.diag(1 / torch.linalg.inv(cov).diagonal())
    check_against_exact(draws, mean, cov)
    assert stats["prior_precision"] == precision and stats["approximated_parameters"] == 4


def test_last_layer_laplace_is_bayesian_linear_regression_on_the_features(float64):
    from bayeslrp.laplace_posterior import laplace_samples

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 5), torch.nn.Tanh(), torch.nn.Linear(5, 1))
    x = torch.randn(300, 2, generator=torch.Generator().manual_seed(2))
    features = model[:2](x).detach()
    sigma, precision = 0.3, 1.5
    y = blr_problem(features, sigma)
    mean, cov = exact_posterior(features, y, sigma, precision)
    with torch.no_grad():
        model[2].weight.copy_(mean[:5].unsqueeze(0))
        model[2].bias.copy_(mean[5:])
    loader = DataLoader(TensorDataset(x, y.unsqueeze(1)), batch_size=100)
    stack, _ = laplace_samples(
        model, loader, likelihood="regression", subset_of_weights="last_layer",
        hessian_structure="full", prior_precision=precision, samples=20000,
        generator=torch.Generator().manual_seed(0), sigma_noise=sigma,
    )  # fmt: skip
    check_against_exact(torch.cat([stack["2.weight"][:, 0], stack["2.bias"]], 1), mean, cov)
    for name in ("0.weight", "0.bias"):  # the layers below are the MAP net's, in every draw
        assert torch.equal(stack[name], model.state_dict()[name].expand_as(stack[name]))


def test_the_laplace_family_draws_around_the_det_net_on_its_training_images():
    det, _ = fit("det", {"det": DET})
    settings = {"det": DET, "n_samples": 7,
                "laplace": {"subset_of_weights": "last_layer", "hessian_structure": "kron",
                            "prior_precision": "marglik"}}  # fmt: skip
    posterior, summary = fit("laplace", settings, base=det)
    assert len(posterior) == 7 and summary["statistics"]["train_size"] == 256
    assert summary["statistics"]["prior_precision"] > 0
    for name in ("1.weight", "1.bias", "3.weight", "3.bias"):  # below the last layer: the MAP
        map_net = det.samples[name][0]
        assert torch.equal(posterior.samples[name], map_net.expand(7, *map_net.shape)), name
    assert not torch.allclose(posterior.samples["5.weight"][0], posterior.samples["5.weight"][1])


def test_adversarial_training_trains_on_the_pipelines_attack_of_the_current_net():
    from bayeslrp.adversarial_training import adversarial_batch
    from bayeslrp.attacks import attack_batch

    model = build_model("fc", 8)
    x = torch.rand(20, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    y = torch.arange(20) % 10
    settings = {"attack": "pgd", "epsilon": 0.1, "steps": 3, "step_size": 0.05}
    adv = adversarial_batch(model, x, y, settings, torch.Generator().manual_seed(5))
    reference = attack_batch(
        Posterior(model, from_state_dict(model.state_dict())), x, y, attack="pgd",
        epsilon=0.1, steps=3, step_size=0.05, random_start=True,
        generator=torch.Generator().manual_seed(5),
    )["adversarial"]  # fmt: skip
    torch.testing.assert_close(adv, reference)
    assert (adv - x).abs().max() <= 0.1 + 1e-6 and not torch.equal(adv, x)
    assert all(p.grad is None for p in model.parameters())  # the attack leaves no gradient


def test_an_adversarially_trained_net_reports_its_adversarial_loss():
    settings = {"det": DET, "adv": {"attack": "fgsm", "epsilon": 0.3, "steps": 1,
                                    "step_size": 0.3}}  # fmt: skip
    adv, summary = fit("adv", settings)
    det, det_summary = fit("det", {"det": DET})
    assert len(adv) == 1 and summary["statistics"]["epsilon"] == 0.3
    # same initialisation and batch order, other inputs: other weights, a higher loss
    assert not torch.equal(adv.samples["1.weight"], det.samples["1.weight"])
    assert summary["loss_per_epoch"][0] > det_summary["loss_per_epoch"][0]


def test_a_perturbation_that_changes_nothing_trains_the_det_net_exactly():
    images = tiny_train()["images"].float().div(255).unsqueeze(1)
    labels = tiny_train()["labels"]
    weights = []
    for perturb in (None, lambda model, x, y: x.clone()):
        torch.manual_seed(0)
        model = build_model("fc", 8)
        inference.train_deterministic(
            model, images, labels, epochs=1, lr=1e-3, batch_size=64,
            generator=torch.Generator().manual_seed(0), device=torch.device("cpu"),
            perturb=perturb,
        )  # fmt: skip
        weights.append(model.state_dict()["1.weight"])
    assert torch.equal(*weights)


def test_the_matched_twin_takes_as_many_steps_as_det_on_its_smaller_data():
    from bayeslrp.matched_twin import matched_settings

    det = {**DET, "epochs": 2}
    assert matched_settings(det, 2000, 60000)["epochs"] == 60  # 2 x 60000 / 2000
    assert matched_settings({**det, "train_size": 8000}, 2000, 60000)["epochs"] == 8
    assert matched_settings(det, 900, 60000)["epochs"] == 134  # rounded up
    # never fewer epochs than det, never more images than exist
    assert matched_settings(det, 90000, 60000) == {**det, "train_size": 60000, "epochs": 2}


def test_the_matched_twin_sees_exactly_the_first_hmc_images():
    twin, summary = fit("twin", {"det": DET, "hmc": {"train_size": 64}})
    assert len(twin) == 1 and summary["statistics"]["train_size"] == 64
    assert summary["statistics"]["epochs"] == 4  # 256 / 64 images: 4x the epochs
    # the same net as det trained on the first 64 images for 4 epochs
    det, _ = fit("det", {"det": {**DET, "train_size": 64, "epochs": 4}})
    for name in det.samples:
        assert torch.equal(twin.samples[name], det.samples[name]), name
    other, _ = fit("twin", {"det": DET, "hmc": {"train_size": 128}})
    assert not torch.equal(other.samples["1.weight"], twin.samples["1.weight"])
