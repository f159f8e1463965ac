"""The `transfer` attack: adversarials crafted on another network of the same architecture
(the deterministic net, or HMC's matched-data twin) and shown to the model under study.

A black-box attack in the sense of the masking checklist (Athalye et al. 2018, Carlini et
al. 2019): the target's gradients are never taken, so masked gradients cannot protect it.
Where adversarials crafted on the det net flip a Bayesian net more often than the white-box
attacks on the Bayesian net itself, those white-box attacks were masked. For the source
network itself the transfer is its own white-box attack (the same images as that attack
at the transfer's epsilon): every model is scored on the same adversarial images, so the
claims can pair them point by point.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from bayeslrp.posterior import Posterior


def transfer_attack(
    posterior: Posterior,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    source_net: Posterior,
    crafted_with: str,
    source_settings: dict,
    epsilon: float,
    craft: Callable[..., dict[str, torch.Tensor]],
    source: str = "det",
    **shared,
) -> dict[str, torch.Tensor]:
    """The registered attack `crafted_with` run against `source_net` with its settings block
    `source_settings` at radius `epsilon`; `posterior` (the target) is not queried.

    `craft` is attacks.attack_batch (passed in, not imported: the registry imports this
    module). The returned artifact is the source attack's: `moved` and the zero-gradient
    flags describe the attack on the source net (the target's own gradients at x are in
    the masking diagnostics of evaluate_clean). `source` (det, twin: the config's name
    of the source family) is a label here; the workflow loads `source_net` from it.
    """
    del posterior, source  # the target is evaluated elsewhere; the name is a label
    settings = {**source_settings, "epsilon": epsilon}
    return craft(source_net, x, y, attack=crafted_with, **settings, **shared)
