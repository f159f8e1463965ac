"""Posteriors as stacks of weight samples, and predictions averaged over them.

On disk a posterior is a dict: parameter name of the `nn.Sequential` state dict -> tensor
with a leading sample dimension S. A deterministic net is the special case S = 1, so every
later stage treats all inference methods alike. In memory it is a `Posterior`: that stack
together with the network template it belongs to.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn
from torch.func import functional_call, vmap

from bayeslrp import io
from bayeslrp.models import build_model


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


class Posterior:
    """A network template and a stack of S weight samples of it: the model of every stage
    after fitting. Only the template's architecture is used; its own weights never are.

    Methods that run the net vectorise over samples with `vmap(functional_call)`, a
    `chunk` of samples at a time (`chunks`), so memory holds one chunk's activations.
    """

    def __init__(self, network: nn.Module, samples: dict[str, torch.Tensor]):
        self.network, self.samples = network, samples

    @classmethod
    def load(cls, path: str, arch: str, hidden: int, device="cpu") -> Posterior:
        """The posterior stored at `path`, checked against the architecture, on `device`."""
        network = build_model(arch, hidden)
        samples = io.load_tensors(path)
        check_posterior(samples, network, path)
        return cls(network, samples).to(device)

    def save(self, path: str) -> None:
        io.save_tensors(self.samples, path)

    def __len__(self) -> int:
        return num_samples(self.samples)

    def to(self, device) -> Posterior:
        """A copy on `device` (the template too: `nn.Module.to` would move it in place)."""
        network = copy.deepcopy(self.network).to(device)
        return Posterior(network, {k: v.to(device) for k, v in self.samples.items()})

    def sample(self, s: int) -> dict[str, torch.Tensor]:
        """The weights of sample `s`, a state dict of the template."""
        return {name: value[s] for name, value in self.samples.items()}

    def take(self, n: int) -> Posterior:
        """The first `n` samples (for MCMC stored in `spread_order`, n draws spread over
        every chain and over each chain's length; VI draws are i.i.d.)."""
        if n > len(self):
            raise ValueError(f"asked for {n} posterior samples, the posterior holds {len(self)}")
        return self._slice(0, n)

    def _slice(self, start: int, stop: int) -> Posterior:
        return Posterior(self.network, {k: v[start:stop] for k, v in self.samples.items()})

    def chunks(self, size: int):
        """(start, posterior of samples start .. start + size - 1) over all samples."""
        for start in range(0, len(self), size):
            yield start, self._slice(start, start + size)

    def logits(
        self, x: torch.Tensor, chunk: int = 16, per_sample_inputs: bool = False
    ) -> torch.Tensor:
        """Logits of every sample, shape [S, N, 10], differentiable with respect to `x`.

        `x` is [N, ...] shared by all samples, or [S, N, ...] with one input batch per
        sample (`per_sample_inputs`).
        """

        def one(params, inputs):
            return functional_call(self.network, params, (inputs,))

        if chunk == 1:  # a plain loop: on a CPU, faster than vmap for conv nets
            return torch.stack([
                one(self.sample(s), x[s] if per_sample_inputs else x) for s in range(len(self))
            ])  # fmt: skip
        call = vmap(one, in_dims=(0, 0 if per_sample_inputs else None))
        parts = [
            call(part.samples, x[start : start + chunk] if per_sample_inputs else x)
            for start, part in self.chunks(chunk)
        ]
        return torch.cat(parts)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """Posterior predictive: the mean softmax over samples, [N, 10], in image batches."""
        outputs = [
            self.logits(x[i : i + batch_size]).softmax(-1).mean(0)
            for i in range(0, len(x), batch_size)
        ]
        return torch.cat(outputs)

    def predict_proba_prefixes(
        self, x: torch.Tensor, ns: list[int], batch_size: int = 1000
    ) -> dict[int, torch.Tensor]:
        """Mean softmax over the first n samples for every n in `ns`, from one pass.

        Cumulative sums over the sample dimension give every prefix mean at the cost of
        the largest n alone (100 instead of 10 + 50 + 100 forward passes).
        """
        return self._prefix_means(x, ns, batch_size, log=False)

    def log_predict_proba_prefixes(
        self, x: torch.Tensor, ns: list[int], batch_size: int = 1000
    ) -> dict[int, torch.Tensor]:
        """log of predict_proba_prefixes, from a running logsumexp of the log-softmaxes, so
        that a class whose probability underflows to 0 in every draw still has a finite log
        probability."""
        return self._prefix_means(x, ns, batch_size, log=True)

    @torch.no_grad()
    def _prefix_means(
        self, x: torch.Tensor, ns: list[int], batch_size: int, log: bool
    ) -> dict[int, torch.Tensor]:
        """The prefix means of both predict_proba_prefixes (log False) and its log."""
        largest = self.take(max(ns))
        out: dict[int, list[torch.Tensor]] = {n: [] for n in ns}
        for i in range(0, len(x), batch_size):
            logits = largest.logits(x[i : i + batch_size])
            if log:
                running = logits.log_softmax(-1).logcumsumexp(0)
                parts = {n: running[n - 1] - math.log(n) for n in ns}
            else:
                running = logits.softmax(-1).cumsum(0)
                parts = {n: running[n - 1] / n for n in ns}
            for n, part in parts.items():
                out[n].append(part)
        return {n: torch.cat(parts) for n, parts in out.items()}


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
