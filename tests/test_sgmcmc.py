"""Cyclical SGHMC (sgmcmc.py): the sampler against a Gaussian target with a known answer,
its schedules, and the family's weight stack."""

import itertools
import math
from functools import partial

import pytest
import torch

from bayeslrp import inference, sgmcmc
from bayeslrp.convergence import chain_major
from bayeslrp.models import build_model
from bayeslrp.names import sgmcmc_draws_per_cycle

MEAN = torch.tensor([1.0, -2.0])
STD = torch.tensor([0.5, 1.5])


def gaussian_log_density(params, batch):
    """log N(theta; MEAN, diag STD^2) summed over a batch of independent chains (rows of
    theta): one sampler run moves every chain at once, so the last draws of the chains are
    independent draws. posteriors wants a tensor as auxiliary output."""
    theta = params["theta"]
    return (-0.5 * ((theta - MEAN) / STD) ** 2).sum(), torch.tensor([])


def run_gaussian(chains, *, exploration=0.0, temperature=1.0, cycles=4, steps=1500, lr=0.02,
                 alpha=5.0):
    torch.manual_seed(0)
    draws, _ = sgmcmc.sample_chain(
        gaussian_log_density, {"theta": torch.zeros(chains, 2)}, iter(lambda: None, 1),
        lr=lr, alpha=alpha, temperature=temperature, cycles=cycles, steps_per_cycle=steps,
        exploration=exploration, draws_per_cycle=1,
    )  # fmt: skip
    return draws["theta"]  # [cycles, chains, 2]


def test_sghmc_recovers_the_mean_and_variance_of_a_gaussian_target():
    chains = 4000
    last = run_gaussian(chains)[-1].double()  # after 3 cycles of burn-in: i.i.d. over chains
    mean, var = last.mean(0), last.var(0)
    # Monte Carlo error of i.i.d. draws: std / sqrt(K) for the mean, var * sqrt(2 / (K - 1))
    # for the variance; 4.5 of them: a false failure rarer than 1 in 10,000 (4 checks)
    assert ((mean - MEAN.double()).abs() <= 4.5 * STD.double() / math.sqrt(chains)).all()
    variance = STD.double() ** 2
    assert ((var - variance).abs() <= 4.5 * variance * math.sqrt(2 / (chains - 1))).all()


def test_the_exploration_stage_optimises_without_noise():
    # temperature 0 in the exploration stage: every chain ends at the mode, exactly alike
    draws = run_gaussian(50, exploration=0.95, temperature=0.0, cycles=1, steps=3000, lr=0.1,
                         alpha=1.0)  # fmt: skip
    assert torch.allclose(draws[-1], MEAN.expand(50, 2), atol=1e-3)
    assert draws[-1].std(0).max() < 1e-6


def test_the_schedules_follow_zhang_et_al():
    lr = sgmcmc.cyclical_schedule(0.2, 100)
    assert lr(0) == pytest.approx(0.2) and lr(100) == pytest.approx(0.2)
    assert lr(50) == pytest.approx(0.1) and lr(99) < 0.001
    temperature = sgmcmc.sampling_temperature(0.5, 100, 0.3)
    assert [temperature(s) for s in (0, 29, 30, 99, 130)] == [0.0, 0.0, 0.5, 0.5, 0.5]
    # draws evenly over the sampling stage, the last at the cycle's end
    assert sgmcmc.draw_steps(100, 0.5, 5) == [59, 69, 79, 89, 99]
    with pytest.raises(ValueError, match="do not fit a sampling stage of 50 steps"):
        sgmcmc.draw_steps(100, 0.5, 51)


SETTINGS = {"chains": 2, "cycles": 2, "burnin_cycles": 0, "epochs_per_cycle": 2,
            "exploration": 0.5, "lr": 0.2, "alpha": 0.5, "prior_scale": 1.0, "batch_size": 64,
            "train_size": None}  # fmt: skip


def fit(settings, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (256, 28, 28), generator=g, dtype=torch.uint8)
    train = {"images": images, "labels": torch.randint(0, 10, (256,), generator=g)}
    torch.manual_seed(seed)
    return inference.fit_function("sgmcmc")(
        partial(build_model, "fc", 8), train, None, {"sgmcmc": settings, "n_samples": 10},
        generator=torch.Generator().manual_seed(seed), device=torch.device("cpu"),
    )  # fmt: skip


def test_the_family_stacks_every_chains_draws_spread_over_chains():
    posterior, summary = fit(SETTINGS)
    # ceil(10 / (2 chains x 2 cycles)) = 3 draws per cycle: 2 chains x 6 draws
    assert len(posterior) == 12 and summary["statistics"]["draws_per_chain"] == 6
    assert summary["statistics"]["chains"] == 2 and summary["statistics"]["train_size"] == 256
    # stored in spread order: the first two draws come from different chains, and the
    # judge's chain_major recovers each chain's draws in order (distinct chains)
    weight = posterior.samples["1.weight"]
    by_chain = chain_major(weight, 2)
    assert by_chain.shape[:2] == (2, 6)
    assert not torch.equal(by_chain[0, -1], by_chain[1, -1])
    assert set(posterior.samples) == set(build_model("fc", 8).state_dict())


def test_burn_in_cycles_are_run_and_dropped():
    kept, summary = fit({**SETTINGS, "burnin_cycles": 1})
    # same draws per chain, a cycle more of steps, and different (later) draws
    assert len(kept) == 12 and summary["statistics"]["steps"] == 2 * 3 * 2 * (256 // 64)
    plain, _ = fit(SETTINGS)
    assert not torch.equal(kept.samples["1.weight"], plain.samples["1.weight"])


def test_the_family_is_reproducible_from_its_seed():
    first, _ = fit(SETTINGS)
    again, _ = fit(SETTINGS)
    other, _ = fit(SETTINGS, seed=1)
    assert all(torch.equal(first.samples[k], again.samples[k]) for k in first.samples)
    assert not torch.equal(first.samples["1.weight"], other.samples["1.weight"])


def test_draws_per_cycle_is_the_fewest_that_cover_the_largest_n():
    for chains, cycles, n in itertools.product([1, 2, 3], [1, 2, 4], [1, 5, 10, 12, 100]):
        per_cycle = sgmcmc_draws_per_cycle({"chains": chains, "cycles": cycles}, n)
        assert chains * cycles * per_cycle >= n > chains * cycles * (per_cycle - 1)
