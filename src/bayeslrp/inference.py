"""Fitting posteriors. Deterministic nets (Adam on cross-entropy) are the S = 1 case."""

from __future__ import annotations

import logging
import math

import torch
from torch import nn

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
) -> list[float]:
    """Train `model` in place with Adam on cross-entropy; return the mean loss per epoch.

    Batches are drawn with `generator` (not a DataLoader with workers) so the order, and
    therefore the weights, depend on the seed alone.
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
            loss = nn.functional.cross_entropy(model(images[rows]), labels[rows])
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
