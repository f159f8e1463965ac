"""Mean-field variational inference over every weight of a network.

Two backends fit the same model (N(0, prior_scale) prior on every weight and bias, a
mean-field normal guide with softplus-positive scales, the minibatch log-likelihood scaled
by N / B, Adam): `pyro`, Pyro's SVI with an AutoNormal guide, and `torch`, the same
objective written out (Bayes by backprop: one reparameterised weight draw per particle
and step, the KL to the prior in closed form). The torch backend is the default because
Pyro traces every weight as a sample site on every step, which costs several times the
network's own forward and backward pass (benchmarks/bench_inference.py measures both
against a deterministic epoch); tests/test_vi.py checks both against the closed-form
posterior of a Bayesian linear regression.
"""

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
from torch.func import functional_call

from bayeslrp.bayes import bayesian_model, categorical, initial_values, site_name

log = logging.getLogger(__name__)

GUIDE_INITS = ("small", "randn")
VI_BACKENDS = ("torch", "pyro")


def _randn_values(net: nn.Module, generator: torch.Generator):
    """(name, location, raw scale) per parameter of `net`, both ~ N(0, 1), as the reference
    code initialises its guide; one draw order for both backends."""
    for name, p in net.state_dict().items():
        loc = torch.randn(p.shape, generator=generator).to(p)
        raw = torch.randn(p.shape, generator=generator).to(p)
        yield name, loc, raw


def _randn_start(guide: AutoNormal, net: nn.Module, generator: torch.Generator) -> None:
    """Guide locations ~ N(0, 1) and scales = softplus(N(0, 1)) (`_randn_values`;
    AutoNormal only takes one initial scale for every site)."""
    for name, loc, raw in _randn_values(net, generator):
        site = site_name(name)
        event_dim = guide._event_dims[site]
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
    backend: str = "torch",
) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], list[float]]:
    """Fit a mean-field normal guide; return its locations, scales and the ELBO per epoch.

    guide_init small: the guide starts at PyTorch's default initialisation of `net` with
    standard deviation `init_scale`; randn: locations and raw scales from a standard normal
    (the reference code). Minibatches and the randn start are drawn with `generator`;
    the weight noise comes from torch's global generator, which the caller seeds.
    """
    if guide_init not in GUIDE_INITS:
        raise ValueError(f"unknown vi.guide_init {guide_init!r}; choose from {GUIDE_INITS}")
    if backend not in VI_BACKENDS:
        raise ValueError(f"unknown vi.backend {backend!r}; choose from {VI_BACKENDS}")
    fit = _torch_guide if backend == "torch" else _pyro_guide
    step, result = fit(net, x, y, lr=lr, num_particles=num_particles, init_scale=init_scale,
                       prior_scale=prior_scale, generator=generator, likelihood=likelihood,
                       guide_init=guide_init)  # fmt: skip
    size, batches = len(x), math.ceil(len(x) / batch_size)
    elbos = []
    for epoch in range(1, epochs + 1):
        order = torch.randperm(size, generator=generator).to(x.device)
        total = 0.0
        for b in range(batches):
            rows = order[b * batch_size : (b + 1) * batch_size]
            loss = step(x[rows], y[rows], size / len(rows))
            if not math.isfinite(loss):
                raise FloatingPointError(
                    f"ELBO is {-loss} at epoch {epoch}, batch {b}; lower vi.lr or "
                    f"vi.init_scale and rerun"
                )
            total += loss
        elbos.append(-total / batches)
        log.info("epoch %d/%d: ELBO %.1f", epoch, epochs, elbos[-1])
    locs, scales = result()
    return locs, scales, elbos


def _pyro_guide(net, x, y, *, lr, num_particles, init_scale, prior_scale, generator,
                likelihood, guide_init):  # fmt: skip
    """(step(x, y, scale) -> loss, result() -> (locs, scales)) of Pyro's SVI."""
    pyro.clear_param_store()
    model = bayesian_model(net, prior_scale, likelihood)
    guide = AutoNormal(
        model, init_loc_fn=init_to_value(values=initial_values(net)), init_scale=init_scale
    )
    if guide_init == "randn":
        guide(x[:1], y[:1])  # builds the guide's sites, then they are replaced
        _randn_start(guide, net, generator)
    svi = SVI(model, guide, pyro.optim.Adam({"lr": lr}), Trace_ELBO(num_particles=num_particles))
    names = list(net.state_dict())

    def result():
        locs = {n: getattr(guide.locs, site_name(n)).detach().clone() for n in names}
        scales = {n: getattr(guide.scales, site_name(n)).detach().clone() for n in names}
        return locs, scales

    return (lambda xb, yb, scale: svi.step(xb, yb, scale=scale)), result


def _inverse_softplus(value: torch.Tensor) -> torch.Tensor:
    return value + torch.log(-torch.expm1(-value))


def _torch_guide(net, x, y, *, lr, num_particles, init_scale, prior_scale, generator,
                 likelihood, guide_init):  # fmt: skip
    """(step(x, y, scale) -> loss, result() -> (locs, scales)) of the objective AutoNormal
    and Trace_ELBO optimise, without Pyro: loss = KL(q || prior) - scale x the mean
    log-likelihood over `num_particles` weight draws."""
    if guide_init == "randn":
        start = _randn_values(net, generator)
    else:
        start = ((name, p.detach().clone(), _inverse_softplus(torch.full_like(p, init_scale)))
                 for name, p in net.state_dict().items())  # fmt: skip
    locs, raws = {}, {}
    for name, loc, raw in start:
        locs[name], raws[name] = loc.requires_grad_(), raw.requires_grad_()
    optimizer = torch.optim.Adam([*locs.values(), *raws.values()], lr=lr)
    log_density = likelihood.log_density

    def step(xb, yb, scale):
        optimizer.zero_grad()
        scales = {n: nn.functional.softplus(r) for n, r in raws.items()}
        fit = 0.0
        for _ in range(num_particles):
            weights = {n: locs[n] + scales[n] * torch.randn_like(locs[n]) for n in locs}
            fit = fit + log_density(functional_call(net, weights, (xb,)), yb)
        # KL(N(m, s^2) || N(0, p^2)) = log(p / s) + (s^2 + m^2) / (2 p^2) - 1/2
        kl = sum(
            (math.log(prior_scale) - scales[n].log()
             + (scales[n].pow(2) + locs[n].pow(2)) / (2 * prior_scale**2) - 0.5).sum()
            for n in locs
        )  # fmt: skip
        loss = kl - scale * fit / num_particles
        loss.backward()
        optimizer.step()
        return loss.item()

    def result():
        with torch.no_grad():
            return ({n: v.detach().clone() for n, v in locs.items()},
                    {n: nn.functional.softplus(r).detach() for n, r in raws.items()})  # fmt: skip

    return step, result


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
