"""Adversarially trained deterministic nets (Madry et al., ICLR 2018): Adam on the
cross-entropy of adversarial examples of each batch, made with the pipeline's own attacks
against the net being trained. The standard non-Bayesian route to robustness: if its
explanations are more robust than a Bayesian net's, the Bayesian route is not the best
one. (The study's reference code compared against an FGSM-trained net, `advNN`.)
"""

from __future__ import annotations

import torch
from torch import nn

from bayeslrp.attacks import attack_batch
from bayeslrp.inference import fit_single_network
from bayeslrp.posterior import Posterior


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
    adv = settings["adv"]
    posterior, summary = fit_single_network(
        build, train, settings["det"], generator=generator, device=device,
        perturb=lambda m, x, y: adversarial_batch(m, x, y, adv, generator),
    )  # fmt: skip
    statistics = summary["statistics"]
    # the training loss is the loss on the adversarial batches
    statistics["adversarial_loss_final"] = statistics.pop("loss_final")
    statistics["epsilon"] = adv["epsilon"]
    return posterior, summary
