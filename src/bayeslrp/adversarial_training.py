"""Adversarially trained deterministic nets (Madry et al., ICLR 2018): Adam on the
cross-entropy of adversarial examples of each batch, made with the pipeline's own attacks
against the net being trained. The standard non-Bayesian route to robustness: if its
explanations are more robust than a Bayesian net's, the Bayesian route is not the best
one. (The study's reference code compared against an FGSM-trained net, `advNN`.)
"""

from __future__ import annotations

import time

import torch
from torch import nn

from bayeslrp.attacks import attack_batch
from bayeslrp.data import training_subset
from bayeslrp.inference import train_network
from bayeslrp.posterior import Posterior, from_state_dict


def adversarial_batch(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, settings: dict,
    generator: torch.Generator,
) -> torch.Tensor:  # fmt: skip
    """Adversarial examples of `x` against the current `model` (its weights viewed, not
    copied, as a posterior with S = 1): `settings` is the `adv` block."""
    current = Posterior(model, {k: v.unsqueeze(0) for k, v in model.state_dict().items()})
    steps = settings["steps"] if settings["attack"] == "pgd" else 1
    result = attack_batch(
        current, x, y, attack=settings["attack"], epsilon=settings["epsilon"], steps=steps,
        step_size=settings["step_size"], random_start=settings["attack"] == "pgd",
        generator=generator, chunk=1,
    )  # fmt: skip
    return result["adversarial"].detach()


def fit(build, train, base, settings, *, generator, device):
    """One net trained on adversarial examples with the `det` settings (inference.fit's
    signature)."""
    det, adv = settings["det"], settings["adv"]
    images, labels = training_subset(train, det["train_size"], device)
    start = time.perf_counter()
    model, losses = train_network(
        build, images, labels, det, generator=generator, device=device,
        perturb=lambda m, x, y: adversarial_batch(m, x, y, adv, generator),
    )  # fmt: skip
    seconds = time.perf_counter() - start
    state = {name: value.detach().cpu() for name, value in model.state_dict().items()}
    summary = {
        "statistics": {"adversarial_loss_final": losses[-1], "train_size": len(labels),
                       "epsilon": adv["epsilon"], "seconds": seconds},
        "loss_per_epoch": losses,
    }  # fmt: skip
    return Posterior(model.cpu(), from_state_dict(state)), summary
