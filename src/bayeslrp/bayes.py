"""A network with a N(0, prior_scale) prior on every weight and bias, as a Pyro model.

Shared by variational inference (`vi`) and HMC (`hmc`). Parameters keep the names of the
`nn.Sequential` state dict so the fitted posterior maps straight onto `weights.pt`.
"""

from __future__ import annotations

from collections.abc import Callable

import pyro
import pyro.distributions as dist
import torch
from pyro import poutine
from torch import nn
from torch.func import functional_call


def site_name(param: str) -> str:
    """Pyro site of a state-dict entry; dots would nest attributes inside Pyro's guides."""
    return "w_" + param.replace(".", "_")


# A likelihood is a Pyro observation `(outputs, y) -> None` with, as its attribute
# `log_density`, the same log-likelihood summed over the batch as a plain tensor function
# (for vi's torch backend, which runs without Pyro's tracing).


def categorical(outputs: torch.Tensor, y: torch.Tensor | None) -> None:
    """Classification likelihood on logits."""
    pyro.sample("obs", dist.Categorical(logits=outputs), obs=y)


categorical.log_density = lambda outputs, y: -nn.functional.cross_entropy(
    outputs, y, reduction="sum"
)


def gaussian(sigma: float) -> Callable:
    """Regression likelihood with known noise `sigma` (for closed-form tests)."""

    def likelihood(outputs: torch.Tensor, y: torch.Tensor | None) -> None:
        pyro.sample("obs", dist.Normal(outputs.squeeze(-1), sigma), obs=y)

    likelihood.log_density = lambda outputs, y: (
        torch.distributions.Normal(outputs.squeeze(-1), sigma).log_prob(y).sum()
    )
    return likelihood


def bayesian_model(net: nn.Module, prior_scale: float, likelihood: Callable = categorical):
    """Pyro model `model(x, y, scale)`: weights ~ N(0, prior_scale), y ~ likelihood(net(x)).

    `scale` multiplies the log-likelihood, so a minibatch of B out of N points is scaled by
    N / B and the ELBO is an unbiased estimate of the full-data one.
    """
    shapes = {name: tuple(p.shape) for name, p in net.state_dict().items()}

    def model(x: torch.Tensor, y: torch.Tensor | None = None, scale: float = 1.0):
        zero = torch.zeros((), device=x.device, dtype=x.dtype)
        params = {
            name: pyro.sample(
                site_name(name),
                dist.Normal(zero, prior_scale).expand(shape).to_event(len(shape)),
            )
            for name, shape in shapes.items()
        }
        outputs = functional_call(net, params, (x,))
        with pyro.plate("data", len(x)), poutine.scale(scale=scale):
            likelihood(outputs, y)

    return model


def initial_values(net: nn.Module) -> dict[str, torch.Tensor]:
    """PyTorch's default layer initialisation as Pyro site values (small, symmetry-breaking)."""
    return {site_name(name): p.detach().clone() for name, p in net.state_dict().items()}
