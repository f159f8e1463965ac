"""Hamiltonian Monte Carlo (Pyro's NUTS or fixed-length HMC) over every network weight."""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pyro
import torch
from pyro.infer import HMC, MCMC, NUTS
from pyro.infer.autoguide.initialization import init_to_uniform, init_to_value
from pyro.ops.stats import effective_sample_size, split_gelman_rubin
from torch import nn

from bayeslrp.bayes import bayesian_model, categorical, initial_values, site_name
from bayeslrp.posterior import interleave

log = logging.getLogger(__name__)

INITS = ("small", "pyro_default", "det_weights", "ensemble")
TRAINED_INITS = ("det_weights", "ensemble")  # start at the weights of a trained net
KERNELS = ("nuts", "hmc")
CHAIN, BATCH = 0, 1  # streams of `derived_seed`


def derived_seed(seed: int, stream: int, index: int) -> int:
    """Seed of chain (or batch) `index` of a run with `seed`: hashed by numpy's SeedSequence
    so that no two (seed, stream, index) share a sampler state (`seed + chain` made chain 1
    of seed 0 the same chain as chain 0 of seed 1)."""
    return int(np.random.SeedSequence([seed, stream, index]).generate_state(1)[0])


def _kernel(model, kind, init_values, step_size, max_tree_depth, num_steps, target_accept):
    init = init_to_value(values=init_values) if init_values else init_to_uniform
    if kind == "nuts":
        return NUTS(model, step_size=step_size, max_tree_depth=max_tree_depth,
                    target_accept_prob=target_accept, init_strategy=init)  # fmt: skip
    if kind == "hmc":
        return HMC(model, step_size=step_size, num_steps=num_steps,
                   target_accept_prob=target_accept, init_strategy=init)  # fmt: skip
    raise ValueError(f"unknown hmc.kernel {kind!r}; choose from {KERNELS}")


def chain_seed(seed: int, protocol: str, index: int) -> int:
    """Sampler seed of chain `index` of a full_data run, or of batch `index` of a per_batch
    run, of the job with `seed` (each chain a job of its own draws exactly this)."""
    if protocol == "per_batch":
        return derived_seed(derived_seed(seed, BATCH, index), CHAIN, 0)
    return derived_seed(seed, CHAIN, index)


def batch_rows(size: int, batch_size: int, seed: int) -> list[torch.Tensor]:
    """The per_batch protocol's batches: a seeded shuffle of `size` images cut into
    `batch_size` pieces (the last may be smaller)."""
    order = torch.randperm(size, generator=torch.Generator().manual_seed(seed))
    return [order[i : i + batch_size] for i in range(0, size, batch_size)]


def draws_per_batch(num_samples: int, batches: int) -> int:
    """Draws each batch's chain keeps so that the pool holds at least `num_samples`."""
    return math.ceil(num_samples / batches)


def sample_chain(
    net: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    seed: int,
    warmup: int,
    num_samples: int,
    thinning: int,
    kernel: str,
    max_tree_depth: int,
    num_steps: int,
    step_size: float,
    target_accept: float,
    prior_scale: float,
    init: str,
    log_every: int = 10,
    likelihood=categorical,
    init_weights: dict[str, torch.Tensor] | None = None,
    label: int = 0,
) -> tuple[dict[str, torch.Tensor], dict]:
    """One chain of the full-batch posterior seeded with `seed` (see `chain_seed`): its
    weights [num_samples, ...] (every `thinning`-th of num_samples * thinning draws, on the
    CPU) and its statistics (acceptance, step size, divergences, seconds).

    init: small = PyTorch's layer initialisation, pyro_default = Pyro's uniform(-2, 2) in
    unconstrained space, det_weights and ensemble = `init_weights` (a trained deterministic
    net, or the ensemble member of this chain). `label` names the chain in the log.
    """
    if init not in INITS:
        raise ValueError(f"unknown hmc.init {init!r}; choose from {INITS}")
    if init in TRAINED_INITS and init_weights is None:
        raise ValueError(f"hmc.init {init} needs the weights of a trained net to start from")
    model = bayesian_model(net, prior_scale, likelihood)
    start_values = None
    if init == "small":
        start_values = initial_values(net)
    elif init in TRAINED_INITS:
        start_values = {site_name(k): v.detach().clone() for k, v in init_weights.items()}
    pyro.set_rng_seed(seed)
    hmc_kernel = _kernel(
        model, kernel, start_values, step_size, max_tree_depth, num_steps, target_accept,
    )  # fmt: skip

    # Pyro resets the kernel's statistics when the run ends, so they are read here, during
    # sampling; acceptance is the running mean over the sampling phase.
    stats = {"acceptance_rate": float("nan"), "step_size": float("nan"), "divergences": 0}
    start = time.perf_counter()

    def progress(k, _params, stage, i):
        if stage == "Sample":
            stats.update(acceptance_rate=float(k._mean_accept_prob),
                         step_size=float(k.step_size), divergences=len(k._divergences))  # fmt: skip
        if (i + 1) % log_every == 0:
            rate = (i + 1) / (time.perf_counter() - start)
            log.info("chain %d %s %d: step size %.3g, acceptance %.3f, divergences %d, "
                     "%.2f iterations/s", label, stage, i + 1, k.step_size,
                     k._mean_accept_prob, len(k._divergences), rate)  # fmt: skip

    mcmc = MCMC(hmc_kernel, num_samples=num_samples * thinning, warmup_steps=warmup,
                num_chains=1, disable_progbar=True, hook_fn=progress)  # fmt: skip
    mcmc.run(x, y)
    stats["seconds"] = time.perf_counter() - start
    draws = mcmc.get_samples()
    names = list(net.state_dict())
    weights = {n: draws[site_name(n)][::thinning].detach().cpu() for n in names}
    log.info("chain %d done in %.1f s: %s", label, stats["seconds"], stats)
    return weights, stats


def stack_chains(chains: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Per-chain weights [S, ...] -> [chains, S, ...]."""
    return {n: torch.stack([c[n] for c in chains]) for n in chains[0]}


def pool_batches(stacked: dict[str, torch.Tensor], num_samples: int) -> dict[str, torch.Tensor]:
    """Per-batch chains [batches, S_b, ...] pooled in `posterior.spread_order` (round-robin
    over batches, spread over each chain) and cut to `num_samples`, so that every prefix
    draws from every batch."""
    return {n: v[:num_samples] for n, v in interleave(stacked).items()}


def run_hmc(net: nn.Module, x: torch.Tensor, y: torch.Tensor, **settings):
    """Sample the full-batch posterior (`sample_chains`); return weights [chains * samples,
    ...] in `posterior.spread_order`, so that the first n are spread over all chains and
    over each chain's length, and the diagnostics."""
    stacked, diagnostics = sample_chains(net, x, y, **settings)
    return interleave(stacked), diagnostics


def sample_chains(
    net: nn.Module, x: torch.Tensor, y: torch.Tensor, *, num_chains: int, seed: int, **settings
) -> tuple[dict[str, torch.Tensor], dict]:
    """`num_chains` chains (`sample_chain`) one after another, in one process; return
    weights [chains, samples, ...] in chain order, and diagnostics. The workflow runs each
    chain as a job of its own (rule run_hmc_chain) with the same seeds, so the two agree."""
    chains, per_chain = [], []
    for chain in range(num_chains):
        weights, stats = sample_chain(net, x, y, seed=chain_seed(seed, "full_data", chain),
                                      label=chain, **settings)  # fmt: skip
        chains.append(weights)
        per_chain.append(stats)
    stacked = stack_chains(chains)
    return stacked, {"chains": per_chain, **mixing_diagnostics(stacked, seed)}


def run_hmc_per_batch(
    net: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int,
    num_samples: int,
    seed: int,
    **settings,
) -> tuple[dict[str, torch.Tensor], dict]:
    """The reference code's protocol: an independent chain on each shuffled batch of
    `batch_size` training images, ceil(num_samples / batches) draws kept per batch, pooled
    (`pool_batches`) to exactly `num_samples` samples.

    Each batch's posterior conditions on that batch alone, so the pooled samples are not
    draws from the full-data posterior; R-hat across batches measures how much they differ.
    """
    batches = [rows.to(x.device) for rows in batch_rows(len(x), batch_size, seed)]
    per_batch = draws_per_batch(num_samples, len(batches))
    parts, chains = [], []
    for b, rows in enumerate(batches):
        log.info("batch %d/%d: %d images, %d samples kept", b + 1, len(batches), len(rows),
                 per_batch)  # fmt: skip
        weights, diagnostics = sample_chains(net, x[rows], y[rows], num_samples=per_batch,
                                             num_chains=1, seed=derived_seed(seed, BATCH, b),
                                             **settings)  # fmt: skip
        parts.append({n: v[0] for n, v in weights.items()})
        chains += diagnostics["chains"]
    stacked = stack_chains(parts)  # [batches, S_b, ...]
    return pool_batches(stacked, num_samples), {
        "chains": chains, "batches": len(batches), **mixing_diagnostics(stacked, seed),
    }  # fmt: skip


def mixing_diagnostics(stacked: dict[str, torch.Tensor], seed: int, size: int = 200) -> dict:
    """Min/max effective sample size and split R-hat over a fixed random subset of weights."""
    flat = torch.cat([v.flatten(2) for v in stacked.values()], dim=2)  # [chains, S, D]
    generator = torch.Generator().manual_seed(seed)
    subset = flat[:, :, torch.randperm(flat.shape[2], generator=generator)[:size]].double()
    if subset.shape[1] < 4:
        return {"ess_min": float("nan"), "ess_max": float("nan"),
                "rhat_min": float("nan"), "rhat_max": float("nan")}  # fmt: skip
    rhat = split_gelman_rubin(subset, chain_dim=0, sample_dim=1)
    finite = rhat[rhat.isfinite()]  # a weight that never moved has an undefined R-hat
    # pyro's ESS of a constant column makes every column's ESS NaN: the moving ones only
    moving = subset[..., rhat.isfinite()]
    ess = effective_sample_size(moving, chain_dim=0, sample_dim=1) if moving.shape[-1] else None
    return {
        "ess_min": float(ess.min()) if ess is not None else float("nan"),
        "ess_max": float(ess.max()) if ess is not None else float("nan"),
        "rhat_min": float(finite.min()) if len(finite) else float("nan"),
        "rhat_max": float(finite.max()) if len(finite) else float("nan"),
    }  # fmt: skip
