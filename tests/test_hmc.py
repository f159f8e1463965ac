import torch
from bayes_fixtures import PRIOR, SIGMA, flat, regression_problem

from bayeslrp.bayes import gaussian
from bayeslrp.hmc import run_hmc


def sample(seed=0, kernel="nuts", chains=2):
    torch.manual_seed(seed)  # the net's initial weights start the chains
    net, x, y, mean, covariance, _ = regression_problem()
    posterior, diagnostics = run_hmc(
        net, x, y, warmup=200, num_samples=400, thinning=1, num_chains=chains, kernel=kernel,
        max_tree_depth=5, num_steps=10, step_size=0.1, target_accept=0.8, prior_scale=PRIOR,
        init="small", seed=seed, likelihood=gaussian(SIGMA),
    )  # fmt: skip
    return posterior, diagnostics, mean, covariance


def test_nuts_recovers_the_gaussian_posterior():
    posterior, diagnostics, mean, covariance = sample()
    draws = flat(posterior)
    assert draws.shape == (800, 3)
    std = covariance.diag().sqrt()
    # Monte Carlo error of the mean is std / sqrt(ESS), ESS > 200: 0.3 std is over 4 errors.
    assert ((draws.mean(0) - mean).abs() < 0.3 * std).all()
    assert ((draws.std(0) / std - 1).abs() < 0.15).all()
    assert diagnostics["ess_min"] > 200
    assert diagnostics["rhat_max"] < 1.05
    assert all(c["divergences"] == 0 for c in diagnostics["chains"])
    # Statistics of the sampling phase, read before Pyro resets the kernel.
    assert all(0.5 < c["acceptance_rate"] <= 1 for c in diagnostics["chains"])
    assert all(c["step_size"] > 0 for c in diagnostics["chains"])


def test_fixed_length_hmc_also_recovers_it_and_is_seeded():
    posterior, _, mean, covariance = sample(seed=1, kernel="hmc", chains=1)
    std = covariance.diag().sqrt()
    assert ((flat(posterior).mean(0) - mean).abs() < 0.3 * std).all()
    again, _, _, _ = sample(seed=1, kernel="hmc", chains=1)
    assert torch.equal(posterior["weight"], again["weight"])
