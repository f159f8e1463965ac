"""Stochastic-gradient HMC on the full training set (Chen et al. 2014) with the cyclical
step size of Zhang et al. (ICLR 2020), through the `posteriors` library.

Full-batch HMC (hmc.py) sees 2,000 images on 2 cores; SG-MCMC is the scalable route to a
posterior over all 60,000. Each of `chains` chains starts from its own random
initialisation and runs `burnin_cycles` + `cycles` cosine cycles of the step size (the
burn-in cycles' draws are dropped: the first starts from a random net); the first
`exploration` fraction of every cycle is optimisation (temperature 0: SGD with momentum,
finding a mode), the rest samples (temperature 1/N: the posterior itself, in posteriors'
per-datum convention), and `draws_per_cycle` draws are kept evenly over each sampling
stage. Draws are stored in posterior.spread_order over the chains, like HMC's, so every
prefix n spreads over all chains and cycles, and the convergence judge can split them
back into chains (convergence.chain_major).
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn
from torch.func import functional_call

from bayeslrp.data import training_subset
from bayeslrp.names import sgmcmc_draws_per_cycle
from bayeslrp.posterior import Posterior, interleave

with warnings.catch_warnings():
    # tensordict warns about its dataclass defaults on import (about a change in its 0.17);
    # posteriors' states never rely on them
    warnings.simplefilter("ignore", FutureWarning)
    from posteriors.sgmcmc import sghmc

log = logging.getLogger(__name__)


def cyclical_schedule(lr: float, steps_per_cycle: int) -> Callable[[int], float]:
    """Zhang et al.'s cosine step size: lr at the start of every cycle, near 0 at its end."""

    def schedule(step) -> float:
        position = (int(step) % steps_per_cycle) / steps_per_cycle
        return lr / 2 * (math.cos(math.pi * position) + 1)

    return schedule


def sampling_temperature(
    temperature: float, steps_per_cycle: int, exploration: float
) -> Callable[[int], float]:
    """0 in each cycle's exploration stage (optimisation), `temperature` after it."""
    explore = int(exploration * steps_per_cycle)

    def schedule(step) -> float:
        return temperature if int(step) % steps_per_cycle >= explore else 0.0

    return schedule


def draw_steps(steps_per_cycle: int, exploration: float, draws: int) -> list[int]:
    """Positions within a cycle (0-based, after the update) at which draws are kept:
    `draws` evenly spaced over the sampling stage, the last at the cycle's end."""
    explore = int(exploration * steps_per_cycle)
    stage = steps_per_cycle - explore
    if draws > stage:
        raise ValueError(
            f"sgmcmc: {draws} draws per cycle do not fit a sampling stage of {stage} steps; "
            "lower sgmcmc.exploration or raise sgmcmc.epochs_per_cycle"
        )
    return [steps_per_cycle - 1 - round(i * stage / draws) for i in reversed(range(draws))]


def sample_chain(
    log_posterior: Callable,
    params: dict[str, torch.Tensor],
    batches: Iterator,
    *,
    lr: float,
    alpha: float,
    temperature: float,
    cycles: int,
    steps_per_cycle: int,
    exploration: float,
    draws_per_cycle: int,
    burnin: int = 0,
) -> tuple[dict[str, torch.Tensor], list[float]]:
    """One cyclical SGHMC chain from `params`: `burnin` cycles whose draws are dropped, then
    `cycles` kept ones: (draws {name: [cycles * draws_per_cycle, ...]}, the log posterior
    of each kept draw's batch). `batches` yields what `log_posterior` takes, one per step.
    The momentum noise comes from torch's global generator."""
    transform = sghmc.build(
        log_posterior,
        lr=cyclical_schedule(lr, steps_per_cycle),
        alpha=alpha,
        temperature=sampling_temperature(temperature, steps_per_cycle, exploration),
        momenta=0.0,  # start at rest: the first stage is optimisation anyway
    )
    state = transform.init(params)
    keep = set(draw_steps(steps_per_cycle, exploration, draws_per_cycle))
    kept, values = [], []
    start = time.perf_counter()
    for step in range((burnin + cycles) * steps_per_cycle):
        state, _ = transform.update(state, next(batches), inplace=True)
        if step >= burnin * steps_per_cycle and step % steps_per_cycle in keep:
            kept.append({name: value.detach().clone() for name, value in state.params.items()})
            values.append(float(state.log_posterior))
        if (step + 1) % steps_per_cycle == 0:
            log.info("cycle %d/%d: log posterior per datum %.4f (%.0f steps/s)",
                     (step + 1) // steps_per_cycle, burnin + cycles, float(state.log_posterior),
                     (step + 1) / (time.perf_counter() - start))  # fmt: skip
    return {name: torch.stack([k[name] for k in kept]) for name in kept[0]}, values


def per_datum_log_posterior(model: nn.Module, size: int, prior_scale: float) -> Callable:
    """posteriors' convention (its docs: "log posteriors"): log p(batch | w) / batch size
    + log p(w) / N, to be sampled at temperature 1/N; the N(0, prior_scale^2) prior of
    every weight and bias, as in HMC and VI (constants dropped)."""

    def log_posterior(params, batch):
        x, y = batch
        logits = functional_call(model, params, (x,))
        log_lik = -F.cross_entropy(logits, y)
        log_prior = -sum((p**2).sum() for p in params.values()) / (2 * prior_scale**2)
        return log_lik + log_prior / size, logits

    return log_posterior


def minibatches(images, labels, batch_size: int, generator: torch.Generator) -> Iterator:
    """Endless shuffled minibatches (epoch after epoch), in `generator`'s order."""
    while True:
        order = torch.randperm(len(labels), generator=generator).to(images.device)
        for i in range(0, len(labels) - batch_size + 1, batch_size):
            index = order[i : i + batch_size]
            yield images[index], labels[index]


def fit(build, train, base, settings, *, generator, device):
    """`sgmcmc.chains` cyclical SGHMC chains on the first `sgmcmc.train_size` training
    images (inference.fit's signature); every draw is kept, so the stack may hold a few
    more than max(n_samples)."""
    s = settings["sgmcmc"]
    images, labels = training_subset(train, s["train_size"], device)
    steps_per_epoch = len(labels) // s["batch_size"]
    steps_per_cycle = s["epochs_per_cycle"] * steps_per_epoch
    per_cycle = sgmcmc_draws_per_cycle(s, settings["n_samples"])
    chains, values = [], []
    start = time.perf_counter()
    for chain in range(s["chains"]):
        model = build().to(device)
        params = {name: p.detach().clone() for name, p in model.named_parameters()}
        draws, value = sample_chain(
            per_datum_log_posterior(model, len(labels), s["prior_scale"]), params,
            minibatches(images, labels, s["batch_size"], generator), lr=s["lr"],
            alpha=s["alpha"], temperature=1 / len(labels), cycles=s["cycles"],
            steps_per_cycle=steps_per_cycle, exploration=s["exploration"],
            draws_per_cycle=per_cycle, burnin=s["burnin_cycles"],
        )  # fmt: skip
        chains.append({name: v.cpu() for name, v in draws.items()})
        values.append(value)
        log.info("chain %d/%d done (%.2f chains/min)", chain + 1, s["chains"],
                 60 * (chain + 1) / (time.perf_counter() - start))  # fmt: skip
    stacked = {name: torch.stack([c[name] for c in chains]) for name in chains[0]}
    template = build()
    state_names = list(template.state_dict())
    if set(state_names) != set(stacked):
        raise ValueError("sgmcmc samples parameters only; the architecture has buffers")
    summary = {
        "statistics": {
            "chains": s["chains"],
            "draws_per_chain": s["cycles"] * per_cycle,
            "train_size": len(labels),
            "steps": s["chains"] * (s["burnin_cycles"] + s["cycles"]) * steps_per_cycle,
            "log_posterior_per_datum": float(torch.tensor(values).mean()),
            "seconds": time.perf_counter() - start,
        },
        "log_posterior_per_chain": [float(torch.tensor(v).mean()) for v in values],
    }
    return Posterior(template, interleave(stacked)), summary
