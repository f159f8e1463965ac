"""Fitting posteriors. Deterministic nets (Adam on cross-entropy) are the S = 1 case.

Every family of the generic fit_posterior rule (names.FITTED) has a module with a `fit`
of the same signature as this module's:

    fit(build, train, base, settings, *, generator, device) -> (Posterior, summary)

`build()` returns a fresh, randomly initialised network of the job's architecture;
`train` the training set as stored; `base` the deterministic net of the same architecture
and seed (families with `from_det`), else None; `settings` {config block: its settings}
for the family's blocks (plus `n_samples`, the largest n evaluated, for families with
`draws`). `summary` is the
fit_summary.json content, with a `statistics` dict of numbers.
"""

from __future__ import annotations

import importlib
import logging
import math
import time
from collections.abc import Callable

import torch
from torch import nn

from bayeslrp.data import training_subset
from bayeslrp.names import FITTED
from bayeslrp.posterior import Posterior, from_state_dict

log = logging.getLogger(__name__)


def train_deterministic(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    generator: torch.Generator,
    device: torch.device,
    perturb: Callable | None = None,
) -> list[float]:
    """Train `model` in place with Adam on cross-entropy; return the mean loss per epoch.

    Batches are drawn with `generator` (not a DataLoader with workers) so the order, and
    therefore the weights, depend on the seed alone. `perturb(model, images, labels)`, if
    given, replaces each batch's images before the step (adversarial training).
    """
    model.to(device).train()
    images, labels = images.to(device), labels.to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    batches = math.ceil(len(images) / batch_size)
    losses = []
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(images), generator=generator).to(device)
        total = 0.0
        for b in range(batches):
            rows = order[b * batch_size : (b + 1) * batch_size]
            inputs = images[rows] if perturb is None else perturb(model, images[rows], labels[rows])
            loss = nn.functional.cross_entropy(model(inputs), labels[rows])
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"training loss is {loss.item()} at epoch {epoch}, batch {b}; "
                    f"lower train.det.lr and rerun"
                )
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += loss.item() * len(rows)
        losses.append(total / len(images))
        log.info("epoch %d/%d: mean training loss %.4f", epoch, epochs, losses[-1])
    model.eval()
    return losses


def fit_function(family: str) -> Callable:
    """The `fit` of a family of names.FITTED (imported on demand, so that a job imports
    the code of its own family only)."""
    if family not in FITTED:
        raise ValueError(
            f"{family!r} is not fitted by fit_posterior; choose one of {sorted(FITTED)}"
        )
    return importlib.import_module(f"bayeslrp.{FITTED[family].module}").fit


def train_network(
    build: Callable[[], nn.Module],
    images: torch.Tensor,
    labels: torch.Tensor,
    det: dict,
    *,
    generator: torch.Generator,
    device: torch.device,
    perturb: Callable | None = None,
) -> tuple[nn.Module, list[float]]:
    """A fresh network from `build()`, trained with the `det` block's settings."""
    model = build()
    losses = train_deterministic(
        model, images, labels, epochs=det["epochs"], lr=det["lr"],
        batch_size=det["batch_size"], generator=generator, device=device, perturb=perturb,
    )  # fmt: skip
    return model, losses


def fit_single_network(
    build: Callable[[], nn.Module],
    train: dict[str, torch.Tensor],
    det: dict,
    *,
    generator: torch.Generator,
    device: torch.device,
    perturb: Callable | None = None,
) -> tuple[Posterior, dict]:
    """One net from `build()` trained with the `det` settings (each batch passed through
    `perturb`, if given), as a posterior with S = 1 on the CPU, and its fit summary."""
    images, labels = training_subset(train, det["train_size"], device)
    start = time.perf_counter()
    model, losses = train_network(build, images, labels, det, generator=generator,
                                  device=device, perturb=perturb)  # fmt: skip
    seconds = time.perf_counter() - start
    log.info("trained on %d images in %.1f s (%.0f images/s)", len(labels), seconds,
             det["epochs"] * len(labels) / seconds)  # fmt: skip
    state = {name: value.detach().cpu() for name, value in model.state_dict().items()}
    summary = {
        "statistics": {"loss_final": losses[-1], "train_size": len(labels), "seconds": seconds},
        "loss_per_epoch": losses,
    }
    return Posterior(model.cpu(), from_state_dict(state)), summary


def fit(build, train, base, settings, *, generator, device):
    """The deterministic net: one Adam run on cross-entropy, a posterior with S = 1."""
    return fit_single_network(build, train, settings["det"], generator=generator, device=device)
