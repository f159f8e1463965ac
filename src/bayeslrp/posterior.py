"""Posteriors as stacks of weight samples, and predictions averaged over them.

A posterior is a dict: parameter name of the `nn.Sequential` state dict -> tensor with a
leading sample dimension S. A deterministic net is the special case S = 1, so every later
stage treats all inference methods alike.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call, vmap


def from_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Wrap one network's weights as a posterior with S = 1."""
    return {name: value.detach().clone().unsqueeze(0) for name, value in state.items()}


def num_samples(posterior: dict[str, torch.Tensor]) -> int:
    return next(iter(posterior.values())).shape[0]


def check_posterior(posterior: dict[str, torch.Tensor], model: nn.Module, source: str) -> None:
    """Fail with a readable message if `posterior` does not fit `model` or holds NaN/inf."""
    expected = {name: tuple(p.shape) for name, p in model.state_dict().items()}
    if set(posterior) != set(expected):
        raise ValueError(
            f"{source}: parameter names {sorted(posterior)} do not match the architecture's "
            f"{sorted(expected)}; rebuild it with the current config (delete the file and rerun)"
        )
    sizes = {value.shape[0] for value in posterior.values()}
    if len(sizes) != 1:
        raise ValueError(f"{source}: parameters disagree on the number of samples: {sizes}")
    for name, value in posterior.items():
        if tuple(value.shape[1:]) != expected[name]:
            raise ValueError(
                f"{source}: {name} has per-sample shape {tuple(value.shape[1:])}, the "
                f"architecture needs {expected[name]} (was `hidden` changed? delete and rerun)"
            )
        if not torch.isfinite(value).all():
            raise ValueError(f"{source}: {name} contains NaN or infinite weights")


def _radical_inverse(j: int) -> float:
    """Van der Corput sequence in base 2: 0, 1/2, 1/4, 3/4, 1/8, ..."""
    value, scale = 0.0, 0.5
    while j:
        value, j, scale = value + scale * (j & 1), j >> 1, scale / 2
    return value


def spread_positions(size: int) -> list[int]:
    """A permutation of range(size) whose every prefix is spread evenly over the range
    (positions of the base-2 van der Corput sequence): 0, size/2, size/4, 3 size/4, ..."""
    order, seen, j = [], set(), 0
    while len(order) < size:  # ends by j = 2^ceil(log2 size): every position is hit
        position = int(_radical_inverse(j) * size)
        if position not in seen:
            seen.add(position)
            order.append(position)
        j += 1
    return order


def spread_order(chains: int, per_chain: int) -> torch.Tensor:
    """Order of the chain-major draws [chains * per_chain] in which a posterior is stored.

    Draws of one MCMC chain are autocorrelated, so "the first n draws" of a chain are n
    draws close together, and of chain 0 alone. In this order every prefix takes its draws
    round-robin from all chains (or per-batch runs), and within a chain spread evenly over
    its length, so that the n samples of a Bayesian net represent the whole run for every
    n while the prefixes stay nested (prefix sums give every n from one pass).
    """
    within = spread_positions(per_chain)
    return torch.tensor([c * per_chain + p for p in within for c in range(chains)])


def interleave(stacked: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """[chains, S, ...] draws -> [chains * S, ...] in `spread_order`."""
    chains, per_chain = next(iter(stacked.values())).shape[:2]
    order = spread_order(chains, per_chain)
    return {name: value.flatten(0, 1)[order] for name, value in stacked.items()}


def take(posterior: dict[str, torch.Tensor], n: int) -> dict[str, torch.Tensor]:
    """The first `n` samples of a posterior (for MCMC stored in `spread_order`, n draws
    spread over every chain and over each chain's length; VI draws are i.i.d.)."""
    available = num_samples(posterior)
    if n > available:
        raise ValueError(f"asked for {n} posterior samples, the posterior holds {available}")
    return {name: value[:n] for name, value in posterior.items()}


def stacked_logits(
    model: nn.Module,
    posterior: dict[str, torch.Tensor],
    x: torch.Tensor,
    chunk: int = 16,
    per_sample_inputs: bool = False,
) -> torch.Tensor:
    """Logits of every posterior sample, shape [S, N, 10], vectorised over samples.

    `x` is [N, ...] shared by all samples, or [S, N, ...] with one input batch per sample
    (`per_sample_inputs`). `vmap` over `functional_call` runs a chunk of samples as one
    batched computation, differentiable with respect to `x` (the attacks need that).
    """

    def one(params, inputs):
        return functional_call(model, params, (inputs,))

    if chunk == 1:  # a plain loop: on a CPU, faster than vmap for conv nets
        return torch.stack([
            one({k: v[s] for k, v in posterior.items()}, x[s] if per_sample_inputs else x)
            for s in range(num_samples(posterior))
        ])  # fmt: skip
    call = vmap(one, in_dims=(0, 0 if per_sample_inputs else None))
    size = num_samples(posterior)
    parts = [
        call(
            {k: v[start : start + chunk] for k, v in posterior.items()},
            x[start : start + chunk] if per_sample_inputs else x,
        )
        for start in range(0, size, chunk)
    ]
    return torch.cat(parts)


@torch.no_grad()
def predict_proba(
    model: nn.Module,
    posterior: dict[str, torch.Tensor],
    x: torch.Tensor,
    batch_size: int = 1000,
) -> torch.Tensor:
    """Posterior predictive: the mean softmax over samples, [N, 10], in batches of images."""
    outputs = [
        stacked_logits(model, posterior, x[i : i + batch_size]).softmax(-1).mean(0)
        for i in range(0, len(x), batch_size)
    ]
    return torch.cat(outputs)


def layer_of(param: str) -> int:
    """Layer id (index in the `nn.Sequential`) of a state-dict entry such as `3.weight`."""
    return int(param.split(".")[0])


def std_by_layer(stds: dict[str, torch.Tensor]) -> dict[int, dict[str, float]]:
    """Mean and quantiles of per-weight posterior standard deviations, per learnable layer."""
    layers: dict[int, list[torch.Tensor]] = {}
    for name, std in stds.items():
        layers.setdefault(layer_of(name), []).append(std.flatten().double())
    summary = {}
    for layer, parts in sorted(layers.items()):
        values = torch.cat(parts)
        q = torch.quantile(values, torch.tensor([0.05, 0.5, 0.95], dtype=values.dtype))
        summary[layer] = {"std_mean": values.mean().item(), "std_q05": q[0].item(),
                          "std_q50": q[1].item(), "std_q95": q[2].item()}  # fmt: skip
    return summary


def sample_std(posterior: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Per-weight standard deviation over the samples (zero for a single sample)."""
    if num_samples(posterior) < 2:
        return {name: torch.zeros_like(value[0]) for name, value in posterior.items()}
    return {name: value.double().std(0) for name, value in posterior.items()}


def drop_invalid_samples(posterior: dict[str, torch.Tensor], source: str):
    """Remove samples holding NaN or inf in any weight; fail if none is left."""
    valid = torch.ones(num_samples(posterior), dtype=torch.bool)
    for value in posterior.values():
        valid &= torch.isfinite(value.flatten(1)).all(1)
    if not valid.any():
        raise FloatingPointError(
            f"{source}: every posterior sample holds NaN or infinite weights; the sampler "
            f"diverged. Lower the step size or learning rate (or use a smaller prior_scale)"
        )
    return {name: value[valid] for name, value in posterior.items()}, int((~valid).sum())


@torch.no_grad()
def predict_proba_prefixes(
    model: nn.Module,
    posterior: dict[str, torch.Tensor],
    x: torch.Tensor,
    ns: list[int],
    batch_size: int = 1000,
) -> dict[int, torch.Tensor]:
    """Mean softmax over the first n samples for every n in `ns`, from one pass over samples.

    Cumulative sums over the sample dimension give every prefix mean at the cost of the
    largest n alone (100 instead of 10 + 50 + 100 forward passes for the paper's counts).
    """
    largest = max(ns)
    weights = take(posterior, largest)
    out: dict[int, list[torch.Tensor]] = {n: [] for n in ns}
    for i in range(0, len(x), batch_size):
        cumulative = stacked_logits(model, weights, x[i : i + batch_size]).softmax(-1).cumsum(0)
        for n in ns:
            out[n].append(cumulative[n - 1] / n)
    return {n: torch.cat(parts) for n, parts in out.items()}
