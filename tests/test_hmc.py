import pytest
import torch
from bayes_fixtures import PRIOR, SIGMA, flat, regression_problem
from pyro.ops.stats import effective_sample_size

from bayeslrp.bayes import gaussian
from bayeslrp.hmc import (
    batch_rows,
    chain_seed,
    derived_seed,
    draws_per_batch,
    pool_batches,
    run_hmc,
    run_hmc_per_batch,
    sample_chain,
    sample_chains,
    stack_chains,
)

# Seeded chains are reproducible on one machine, not across machines (floating point
# changes the trajectories), so a check's tolerance is its own Monte Carlo error: a
# statistic's standard error from the chains' effective sample size, times Z. Six checks per
# test at Z = 5 fail by chance less than 1 in 10^5 even when the ESS is estimated 20 % high.
Z = 5.0


def sample(seed=0, kernel="nuts", chains=2, draws=400, warmup=200):
    torch.manual_seed(seed)  # the net's initial weights start the chains
    net, x, y, mean, covariance, _ = regression_problem()
    stacked, diagnostics = sample_chains(
        net, x, y, warmup=warmup, num_samples=draws, thinning=1, num_chains=chains, kernel=kernel,
        max_tree_depth=5, num_steps=10, step_size=0.1, target_accept=0.8, prior_scale=PRIOR,
        init="small", seed=seed, likelihood=gaussian(SIGMA),
    )  # fmt: skip
    return flat(stacked).double(), diagnostics, mean.double(), covariance.double()


def assert_moments_within_monte_carlo_error(draws, mean, covariance):
    """draws [chains, S, 3]: mean within Z * std / sqrt(ESS) of the exact mean, and std
    within Z standard errors of the exact std (the standard error of a sample std is
    std / (2 sqrt(ESS of the squared deviations)) for a Gaussian)."""
    std = covariance.diag().sqrt()
    # An ESS above the number of draws (antithetic chains) is not trusted: capped.
    total = draws.shape[0] * draws.shape[1]
    ess = effective_sample_size(draws, chain_dim=0, sample_dim=1).clamp(max=total)
    assert (ess > 50).all(), f"too few effective draws for a meaningful check: {ess}"
    estimate = draws.mean((0, 1))
    assert ((estimate - mean).abs() < Z * std / ess.sqrt()).all(), (estimate, mean, ess)
    squares = (draws - mean) ** 2
    ess_sq = effective_sample_size(squares, chain_dim=0, sample_dim=1).clamp(max=total)
    spread = squares.mean((0, 1)).sqrt()
    assert ((spread / std - 1).abs() < Z / (2 * ess_sq.sqrt())).all(), (spread, std, ess_sq)


def test_nuts_recovers_the_gaussian_posterior():
    draws, diagnostics, mean, covariance = sample()
    assert draws.shape == (2, 400, 3)
    assert_moments_within_monte_carlo_error(draws, mean, covariance)
    assert diagnostics["rhat_max"] < 1.05
    assert all(c["divergences"] == 0 for c in diagnostics["chains"])
    # Statistics of the sampling phase, read before Pyro resets the kernel.
    assert all(0.5 < c["acceptance_rate"] <= 1 for c in diagnostics["chains"])
    assert all(c["step_size"] > 0 for c in diagnostics["chains"])


def test_fixed_length_hmc_also_recovers_it_and_is_seeded():
    # Fixed-length trajectories mix slowly here (one 400-draw chain: ESS ~20 for the bias),
    # so two chains of 1000 draws; the ESS cap uses all draws of both chains.
    draws, _, mean, covariance = sample(seed=1, kernel="hmc", chains=2, draws=1000)
    assert_moments_within_monte_carlo_error(draws, mean, covariance)
    short, _, _, _ = sample(seed=1, kernel="hmc", chains=1, draws=20, warmup=20)
    again, _, _, _ = sample(seed=1, kernel="hmc", chains=1, draws=20, warmup=20)
    assert torch.equal(short, again)


def test_chain_seeds_never_collide_across_runs():
    seeds = {derived_seed(seed, stream, index) for seed in range(20) for stream in (0, 1)
             for index in range(20)}  # fmt: skip
    assert len(seeds) == 20 * 2 * 20  # seed + chain made (0, 1) and (1, 0) the same chain


def test_run_hmc_stores_draws_spread_over_chains():
    torch.manual_seed(0)
    net, x, y, *_ = regression_problem()
    settings = dict(warmup=5, num_samples=8, thinning=1, num_chains=3, kernel="hmc",
                    max_tree_depth=5, num_steps=3, step_size=0.05, target_accept=0.8,
                    prior_scale=PRIOR, init="small", seed=0,
                    likelihood=gaussian(SIGMA))  # fmt: skip
    stacked, _ = sample_chains(net, x, y, **settings)
    posterior, _ = run_hmc(net, x, y, **settings)
    chains = flat(stacked)  # [3, 8, 3]
    stored = flat(posterior)  # [24, 3]
    # the first three stored draws are the first draw of each chain, then the middle ones
    assert torch.equal(stored[:3], chains[:, 0])
    assert torch.equal(stored[3:6], chains[:, 4])
    assert sorted(map(tuple, stored.tolist())) == sorted(map(tuple, chains.flatten(0, 1).tolist()))


def test_a_per_batch_prefix_draws_from_every_batch(monkeypatch):
    """The old pooling sorted a random subset, so n = 10 of 4 batches came from batch 0."""
    calls = []

    def fake_chains(net, x, y, *, num_samples, num_chains, seed, **settings):
        batch = len(calls)
        calls.append(seed)
        draws = torch.arange(num_samples, dtype=torch.float32) / 100 + batch
        return {"w": draws.view(1, num_samples, 1)}, {"chains": [{}]}

    monkeypatch.setattr("bayeslrp.hmc.sample_chains", fake_chains)
    monkeypatch.setattr("bayeslrp.hmc.mixing_diagnostics", lambda stacked, seed: {})
    x, y = torch.zeros(40, 2), torch.zeros(40)
    posterior, diagnostics = run_hmc_per_batch(None, x, y, batch_size=10, num_samples=50,
                                               seed=0)  # fmt: skip
    batch = posterior["w"][:, 0].floor().long()
    assert diagnostics["batches"] == 4 and len(posterior["w"]) == 50
    for n in (4, 10, 50):  # every prefix: the batches within one draw of each other
        counts = torch.bincount(batch[:n], minlength=4)
        assert counts.max() - counts.min() <= 1, (n, counts)
    assert len(set(calls)) == 4  # each batch has its own seed


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


SHORT = dict(warmup=5, thinning=1, kernel="hmc", max_tree_depth=5, num_steps=3,
             step_size=0.05, target_accept=0.8, prior_scale=PRIOR, init="small",
             likelihood=gaussian(SIGMA))  # fmt: skip


def test_chains_run_as_separate_jobs_are_the_chains_of_one_process():
    """The workflow runs each chain as a job (run_hmc_chain) and pools them
    (merge_hmc_chains): the same draws as sample_chains / run_hmc_per_batch in one process."""
    torch.manual_seed(0)
    net, x, y, *_ = regression_problem()
    together, _ = sample_chains(net, x, y, num_samples=6, num_chains=3, seed=4, **SHORT)
    apart = stack_chains([
        sample_chain(net, x, y, seed=chain_seed(4, "full_data", c), num_samples=6, **SHORT)[0]
        for c in range(3)
    ])  # fmt: skip
    for name in together:
        assert torch.equal(together[name], apart[name]), name
    # per_batch: batch b's chain on its rows, pooled and cut
    pooled, _ = run_hmc_per_batch(net, x, y, batch_size=len(x) // 3 + 1, num_samples=10, seed=4,
                                  **SHORT)  # fmt: skip
    batches = batch_rows(len(x), len(x) // 3 + 1, 4)
    per_batch = draws_per_batch(10, len(batches))
    parts = [sample_chain(net, x[rows], y[rows], seed=chain_seed(4, "per_batch", b),
                          num_samples=per_batch, **SHORT)[0]
             for b, rows in enumerate(batches)]  # fmt: skip
    jobs = pool_batches(stack_chains(parts), 10)
    for name in pooled:
        assert torch.equal(pooled[name], jobs[name]), name


def test_chain_seeds_of_both_protocols_differ_and_ensemble_init_needs_weights():
    seeds = {chain_seed(s, p, c) for s in range(5) for p in ("full_data", "per_batch")
             for c in range(5)}  # fmt: skip
    assert len(seeds) == 50
    torch.manual_seed(0)
    net, x, y, *_ = regression_problem()
    with pytest.raises(ValueError, match="needs the weights of a trained net"):
        sample_chain(net, x, y, seed=0, num_samples=2, **{**SHORT, "init": "ensemble"})
    moved = {k: v + 3.0 for k, v in net.state_dict().items()}
    settings = {**SHORT, "init": "ensemble", "warmup": 0}
    start, _ = sample_chain(net, x, y, seed=0, num_samples=2, init_weights=moved, **settings)
    # a chain started 3 away from the small init stays far from it after two short steps
    assert (start["weight"] - net.weight.detach()).abs().min() > 1
