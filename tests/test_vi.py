import pytest
import torch
from bayes_fixtures import PRIOR, SIGMA, flat, regression_problem

from bayeslrp import build_model
from bayeslrp.bayes import gaussian
from bayeslrp.vi import fit_vi, sample_mean_field

# Both backends fit the same model and guide: every fitting test runs on each.
backends = pytest.mark.parametrize("backend", ["torch", "pyro"])


def fit(seed=0, batch_size=None, epochs=400, backend="torch"):
    torch.manual_seed(seed)
    net, x, y, mean, covariance, precision = regression_problem()
    locs, scales, elbos = fit_vi(
        net, x, y, epochs=epochs, lr=0.02, batch_size=batch_size or len(x), num_particles=8,
        init_scale=0.1,
        prior_scale=PRIOR, generator=torch.Generator().manual_seed(seed),
        likelihood=gaussian(SIGMA), backend=backend,
    )  # fmt: skip
    return locs, scales, elbos, mean, precision


@backends
def test_vi_recovers_the_gaussian_posterior(backend):
    """Mean-field optimum of a Gaussian posterior: the exact mean, std 1/sqrt(diag precision)."""
    locs, scales, elbos, mean, precision = fit(backend=backend)
    torch.testing.assert_close(flat(locs), mean, atol=0.03, rtol=0)
    torch.testing.assert_close(flat(scales), precision.diag().rsqrt(), atol=0, rtol=0.15)
    assert elbos[-1] > elbos[0]


@backends
def test_minibatch_vi_scales_the_likelihood_by_n_over_b(backend):
    """Four minibatches per epoch: with the likelihood scaled by N/B the optimum is the
    full-data one; without the scaling it would condition on a quarter of the data and its
    standard deviations would be twice as large. Observed over seeds 0-3: locations within
    0.17 posterior std, scales within 7 %; the bounds are 3-5 times that, far from 2x."""
    locs, scales, _, mean, precision = fit(seed=0, batch_size=10, epochs=200, backend=backend)
    std = precision.diag().rsqrt()
    assert ((flat(locs) - mean).abs() < 0.5 * std).all()
    ratio = flat(scales) / std
    assert ((ratio > 0.75) & (ratio < 1.33)).all(), ratio


@backends
def test_vi_is_deterministic_for_a_seed(backend):
    first, second = fit(3, backend=backend), fit(3, backend=backend)
    for a, b in zip(first[:2], second[:2], strict=True):
        for name in a:
            assert torch.equal(a[name], b[name])


def test_mean_field_samples_have_the_guide_moments_and_are_seeded():
    locs = {"weight": torch.tensor([[1.0, -2.0]]), "bias": torch.tensor([0.5])}
    scales = {"weight": torch.tensor([[0.1, 0.3]]), "bias": torch.tensor([2.0])}
    draws = sample_mean_field(locs, scales, 20000, torch.Generator().manual_seed(0))
    assert draws["weight"].shape == (20000, 1, 2)
    # tolerances: 5 standard errors of a mean (scale / sqrt(N)) and of a Gaussian sample
    # std (scale / sqrt(2 N))
    n = 20000
    assert ((flat(draws).mean(0) - flat(locs)).abs() < 5 * flat(scales) / n**0.5).all()
    assert ((flat(draws).std(0) / flat(scales) - 1).abs() < 5 / (2 * n) ** 0.5).all()
    again = sample_mean_field(locs, scales, 20000, torch.Generator().manual_seed(0))
    assert torch.equal(draws["bias"], again["bias"])


@backends
def test_randn_guide_init_starts_from_standard_normal_locations_and_raw_scales(backend):
    # lr ~ 0: the fitted guide is still its starting point.
    torch.manual_seed(0)
    net = build_model("fc", 8)
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    common = dict(epochs=1, lr=1e-12, batch_size=64, num_particles=1, init_scale=0.01,
                  prior_scale=1.0, backend=backend)  # fmt: skip
    locs, scales, _ = fit_vi(net, x, y, generator=torch.Generator().manual_seed(0),
                             guide_init="randn", **common)  # fmt: skip
    # 784 x 8 = 6272 draws: 5 standard errors of a std, 1 / sqrt(2 * 6272) = 0.009 each,
    # and of a mean of softplus(Z) (its std is 0.52): 0.52 / sqrt(6272) = 0.0066 each
    assert abs(locs["1.weight"].std().item() - 1.0) < 5 * 0.009
    # E[softplus(Z)] for Z ~ N(0, 1) is about 0.806
    assert abs(scales["1.weight"].mean().item() - 0.806) < 5 * 0.0066
    small_locs, small_scales, _ = fit_vi(net, x, y, generator=torch.Generator().manual_seed(0),
                                         **common)  # fmt: skip
    assert small_locs["1.weight"].abs().max() < 0.05  # PyTorch's init: |w| < 1/sqrt(784)
    assert torch.allclose(small_scales["1.weight"], torch.tensor(0.01))


def test_an_unknown_backend_is_named_before_any_work():
    with pytest.raises(ValueError, match="vi.backend 'jax'"):
        fit(backend="jax")
