"""Mean-field variational inference with Pyro's SVI over every weight of a network."""

from __future__ import annotations

import logging
import math

import pyro
import torch
from pyro.infer import SVI, Trace_ELBO
from pyro.infer.autoguide import AutoNormal
from pyro.infer.autoguide.initialization import init_to_value
from pyro.nn import PyroParam
from torch import nn
from torch.distributions import constraints

from bayeslrp.bayes import bayesian_model, categorical, initial_values, site_name

log = logging.getLogger(__name__)

GUIDE_INITS = ("small", "randn")


def _randn_start(guide: AutoNormal, net: nn.Module, generator: torch.Generator) -> None:
    """Guide locations ~ N(0, 1) and scales = softplus(N(0, 1)), as the reference code
    initialises its guide (AutoNormal only takes one initial scale for every site)."""
    for name, p in net.state_dict().items():
        site = site_name(name)
        event_dim = guide._event_dims[site]
        loc = torch.randn(p.shape, generator=generator).to(p)
        raw = torch.randn(p.shape, generator=generator).to(p)
        setattr(guide.locs, site, PyroParam(loc, constraints.real, event_dim))
        scale = nn.functional.softplus(raw)
        setattr(guide.scales, site, PyroParam(scale, guide.scale_constraint, event_dim))


def fit_vi(
    net: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    num_particles: int,
    init_scale: float,
    prior_scale: float,
    generator: torch.Generator,
    likelihood=categorical,
    guide_init: str = "small",
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], list[float]]:
    """Fit a mean-field normal guide; return its locations, scales and the ELBO per epoch.

    guide_init small: the guide starts at PyTorch's default initialisation of `net` with
    standard deviation `init_scale`; randn: locations and raw scales from a standard normal
    (the reference code). Minibatches and the randn start are drawn with `generator`;
    Pyro's own noise comes from torch's global generator, which the caller seeds.
    """
    if guide_init not in GUIDE_INITS:
        raise ValueError(f"unknown vi.guide_init {guide_init!r}; choose from {GUIDE_INITS}")
    pyro.clear_param_store()
    model = bayesian_model(net, prior_scale, likelihood)
    guide = AutoNormal(
        model, init_loc_fn=init_to_value(values=initial_values(net)), init_scale=init_scale
    )
    if guide_init == "randn":
        guide(x[:1], y[:1])  # builds the guide's sites, then they are replaced
        _randn_start(guide, net, generator)
    svi = SVI(model, guide, pyro.optim.Adam({"lr": lr}), Trace_ELBO(num_particles=num_particles))
    size, batches = len(x), math.ceil(len(x) / batch_size)
    elbos = []
    for epoch in range(1, epochs + 1):
        order = torch.randperm(size, generator=generator).to(x.device)
        total = 0.0
        for b in range(batches):
            rows = order[b * batch_size : (b + 1) * batch_size]
            loss = svi.step(x[rows], y[rows], scale=size / len(rows))
            if not math.isfinite(loss):
                raise FloatingPointError(
                    f"ELBO is {-loss} at epoch {epoch}, batch {b}; lower vi.lr or "
                    f"vi.init_scale and rerun"
                )
            total += loss
        elbos.append(-total / batches)
        log.info("epoch %d/%d: ELBO %.1f", epoch, epochs, elbos[-1])
    names = list(net.state_dict())
    locs = {n: getattr(guide.locs, site_name(n)).detach().clone() for n in names}
    scales = {n: getattr(guide.scales, site_name(n)).detach().clone() for n in names}
    return locs, scales, elbos


def sample_mean_field(
    locs: dict[str, torch.Tensor],
    scales: dict[str, torch.Tensor],
    n: int,
    generator: torch.Generator,
) -> dict[str, torch.Tensor]:
    """`n` weight samples loc + scale * noise per parameter, as a posterior [n, ...]."""
    return {
        name: loc + scales[name] * torch.randn((n, *loc.shape), generator=generator)
        for name, loc in locs.items()
    }
