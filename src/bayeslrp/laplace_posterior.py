"""Laplace approximation around the trained deterministic net, with laplace-torch
(Daxberger et al., NeurIPS 2021), drawn as a weight-sample stack.

The default is the library's recommended setting: the last layer only, a Kronecker-
factored GGN, the prior precision chosen by maximising the marginal likelihood. The
library recommends the linearised (GLM) predictive; the pipeline predicts with weight
samples pushed through the net. For the last layer the two are the same distribution:
the logits are linear in the last layer's weights, so the linearisation is exact.
With `subset_of_weights: all` they differ (sampling all weights through the net is known
to underfit; Immer et al., AISTATS 2021): that setting is offered, not the default.
"""

from __future__ import annotations

import logging
import time

import torch
from laplace import Laplace
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from bayeslrp.data import training_subset
from bayeslrp.posterior import Posterior

log = logging.getLogger(__name__)


def laplace_samples(
    model: nn.Module,
    loader: DataLoader,
    *,
    likelihood: str,
    subset_of_weights: str,
    hessian_structure: str,
    prior_precision: float | str,
    samples: int,
    generator: torch.Generator,
    sigma_noise: float = 1.0,
) -> tuple[dict[str, torch.Tensor], dict]:
    """`samples` weight samples of `model` from its Laplace approximation on `loader`'s
    data: {state-dict name: [samples, ...]}, parameters outside the approximated subset
    copied unchanged; and statistics of the fit. `prior_precision` is a number, or
    "marglik" to choose it by the marginal likelihood."""
    fixed = prior_precision != "marglik"
    last = [name for name, m in model.named_modules() if list(m.parameters(recurse=False))][-1]
    extra = {"last_layer_name": last} if subset_of_weights == "last_layer" else {}
    la = Laplace(
        model, likelihood, subset_of_weights=subset_of_weights,
        hessian_structure=hessian_structure, sigma_noise=sigma_noise,
        prior_precision=float(prior_precision) if fixed else 1.0, **extra,
    )  # fmt: skip
    la.fit(loader)
    if not fixed:
        la.optimize_prior_precision(method="marglik", pred_type="glm")
    device = next(model.parameters()).device
    if device.type != "cpu":  # la.sample draws on the model's device
        seed = int(torch.randint(2**62, (1,), generator=generator))
        generator = torch.Generator(device).manual_seed(seed)
    draws = la.sample(samples, generator=generator).detach()
    # la.sample orders the parameters as model.parameters() (of the last layer alone, for
    # last-layer Laplace), each flattened: cut the vectors back into named tensors.
    named = dict(model.named_parameters())
    if subset_of_weights == "last_layer":
        named = {k: v for k, v in named.items() if k.startswith(last + ".")}
    stack, offset = {}, 0
    for name, param in named.items():
        size = param.numel()
        stack[name] = draws[:, offset : offset + size].reshape(samples, *param.shape)
        offset += size
    if offset != draws.shape[1]:
        raise RuntimeError(f"laplace-torch drew {draws.shape[1]} parameters, expected {offset}")
    for name, value in model.state_dict().items():
        if name not in stack:  # outside the approximated subset: the MAP net's weights
            stack[name] = value.detach().unsqueeze(0).expand(samples, *value.shape).clone()
    precision = la.prior_precision.detach().flatten()
    statistics = {"prior_precision": float(precision.mean()),
                  "log_marginal_likelihood": float(la.log_marginal_likelihood().detach()),
                  "approximated_parameters": offset}  # fmt: skip
    return stack, statistics


def fit(build, train, base, settings, *, generator, device):
    """Laplace samples around the deterministic net `base` (inference.fit's signature),
    its Hessian on the det net's training images."""
    own, det = settings["laplace"], settings["det"]
    images, labels = training_subset(train, det["train_size"], device)
    on_device = base.to(device)
    model = on_device.network
    model.load_state_dict(on_device.sample(0))
    model.eval()
    loader = DataLoader(TensorDataset(images, labels), batch_size=det["batch_size"])
    start = time.perf_counter()
    stack, statistics = laplace_samples(
        model, loader, likelihood="classification",
        subset_of_weights=own["subset_of_weights"], hessian_structure=own["hessian_structure"],
        prior_precision=own["prior_precision"], samples=settings["n_samples"],
        generator=generator,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    log.info("Laplace (%s, %s) on %d images in %.1f s (%.0f images/s); prior precision %.3g",
             own["subset_of_weights"], own["hessian_structure"], len(labels), seconds,
             len(labels) / seconds, statistics["prior_precision"])  # fmt: skip
    stack = {name: value.cpu() for name, value in stack.items()}
    summary = {"statistics": {**statistics, "train_size": len(labels), "seconds": seconds}}
    return Posterior(base.network, stack), summary
