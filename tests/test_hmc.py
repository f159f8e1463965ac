import torch
from bayes_fixtures import PRIOR, SIGMA, flat, regression_problem

from bayeslrp.bayes import gaussian
from bayeslrp.hmc import run_hmc, run_hmc_per_batch


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


def test_per_batch_protocol_keeps_the_documented_number_of_samples():
    torch.manual_seed(0)
    net, x, y, *_ = regression_problem()
    settings = dict(warmup=20, thinning=1, kernel="hmc", max_tree_depth=5, num_steps=5,
                    step_size=0.1, target_accept=0.8, prior_scale=PRIOR, init="small",
                    likelihood=gaussian(SIGMA))  # fmt: skip
    # len(x) images in batches of len(x) // 3 + 1: 3 batches, ceil(10 / 3) = 4 draws each,
    # 12 pooled, 10 kept.
    posterior, diagnostics = run_hmc_per_batch(
        net, x, y, batch_size=len(x) // 3 + 1, num_samples=10, seed=0, **settings
    )
    assert diagnostics["batches"] == 3 and len(diagnostics["chains"]) == 3
    assert all(v.shape[0] == 10 for v in posterior.values())
    again, _ = run_hmc_per_batch(
        net, x, y, batch_size=len(x) // 3 + 1, num_samples=10, seed=0, **settings
    )
    assert torch.equal(posterior["weight"], again["weight"])  # seeded


def test_det_weights_init_starts_the_chain_at_the_given_weights():
    torch.manual_seed(0)
    net, x, y, *_ = regression_problem()
    settings = dict(warmup=5, num_samples=5, thinning=1, num_chains=1, kernel="hmc",
                    max_tree_depth=5, num_steps=3, step_size=0.05, target_accept=0.8,
                    prior_scale=PRIOR, seed=0, likelihood=gaussian(SIGMA))  # fmt: skip
    small, _ = run_hmc(net, x, y, init="small", **settings)
    # "small" starts at the net's own weights: the same start given explicitly is the same chain
    same, _ = run_hmc(net, x, y, init="det_weights", init_weights=net.state_dict(), **settings)
    assert torch.equal(small["weight"], same["weight"])
    moved = {k: v + 3.0 for k, v in net.state_dict().items()}
    other, _ = run_hmc(net, x, y, init="det_weights", init_weights=moved, **settings)
    assert not torch.equal(small["weight"], other["weight"])
