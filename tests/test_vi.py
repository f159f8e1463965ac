import torch
from bayes_fixtures import PRIOR, SIGMA, flat, regression_problem

from bayeslrp import build_model
from bayeslrp.bayes import gaussian
from bayeslrp.vi import fit_vi, sample_mean_field


def fit(seed=0):
    torch.manual_seed(seed)
    net, x, y, mean, covariance, precision = regression_problem()
    locs, scales, elbos = fit_vi(
        net, x, y, epochs=400, lr=0.02, batch_size=len(x), num_particles=8, init_scale=0.1,
        prior_scale=PRIOR, generator=torch.Generator().manual_seed(seed),
        likelihood=gaussian(SIGMA),
    )  # fmt: skip
    return locs, scales, elbos, mean, precision


def test_vi_recovers_the_gaussian_posterior():
    """Mean-field optimum of a Gaussian posterior: the exact mean, std 1/sqrt(diag precision)."""
    locs, scales, elbos, mean, precision = fit()
    torch.testing.assert_close(flat(locs), mean, atol=0.03, rtol=0)
    torch.testing.assert_close(flat(scales), precision.diag().rsqrt(), atol=0, rtol=0.15)
    assert elbos[-1] > elbos[0]


def test_vi_is_deterministic_for_a_seed():
    first, second = fit(3), fit(3)
    for a, b in zip(first[:2], second[:2], strict=True):
        for name in a:
            assert torch.equal(a[name], b[name])


def test_mean_field_samples_have_the_guide_moments_and_are_seeded():
    locs = {"weight": torch.tensor([[1.0, -2.0]]), "bias": torch.tensor([0.5])}
    scales = {"weight": torch.tensor([[0.1, 0.3]]), "bias": torch.tensor([2.0])}
    draws = sample_mean_field(locs, scales, 20000, torch.Generator().manual_seed(0))
    assert draws["weight"].shape == (20000, 1, 2)
    torch.testing.assert_close(flat(draws).mean(0), flat(locs), atol=0.05, rtol=0)
    torch.testing.assert_close(flat(draws).std(0), flat(scales), atol=0, rtol=0.03)
    again = sample_mean_field(locs, scales, 20000, torch.Generator().manual_seed(0))
    assert torch.equal(draws["bias"], again["bias"])


def test_randn_guide_init_starts_from_standard_normal_locations_and_raw_scales():
    # lr ~ 0: the fitted guide is still its starting point.
    torch.manual_seed(0)
    net = build_model("fc", 8)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    common = dict(epochs=1, lr=1e-12, batch_size=64, num_particles=1, init_scale=0.01,
                  prior_scale=1.0)  # fmt: skip
    locs, scales, _ = fit_vi(net, x, y, generator=torch.Generator().manual_seed(0),
                             guide_init="randn", **common)  # fmt: skip
    assert abs(locs["1.weight"].std().item() - 1.0) < 0.02
    # E[softplus(Z)] for Z ~ N(0, 1) is about 0.806
    assert abs(scales["1.weight"].mean().item() - 0.806) < 0.02
    small_locs, small_scales, _ = fit_vi(net, x, y, generator=torch.Generator().manual_seed(0),
                                         **common)  # fmt: skip
    assert small_locs["1.weight"].abs().max() < 0.05  # PyTorch's init: |w| < 1/sqrt(784)
    assert torch.allclose(small_scales["1.weight"], torch.tensor(0.01))
