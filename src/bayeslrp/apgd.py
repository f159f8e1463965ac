"""APGD (Croce & Hein, ICML 2020) with a cross-entropy or a DLR (margin) loss, from
torchattacks, against the posterior predictive (predictive_model.PredictiveLogits).

Why torchattacks and not the Adversarial Robustness Toolbox: its APGD is a port of the
authors' AutoAttack code that attacks any `nn.Module` returning logits, so one module
holding every posterior draw (vectorised) gives the exact gradient of the predictive's
loss at one backward pass per step, with no framework wrapper to copy tensors through;
ART would need its PyTorchClassifier around the same module, plus numpy round trips per
step. tests/test_library_attacks.py checks it against our own PGD.

The library's `forward` returns the clean image wherever the attack did not change the
label; the study scores explanations at every attacked point, so this keeps, per point,
the highest-loss iterate in the ball, misclassified or not, over the restarts (the
library's `perturb(best_loss=True)`, written out here to record each restart's start).
"""

from __future__ import annotations

import torch

from bayeslrp.metrics import perturbed
from bayeslrp.posterior import Posterior
from bayeslrp.predictive_model import PredictiveLogits, seeded_global_rng

LOSSES = {"apgd_ce": "ce", "apgd_dlr": "dlr"}


def _zero_gradient(model: PredictiveLogits, criterion, x, y) -> torch.Tensor:
    """Inputs whose attacked loss has an exactly zero input gradient, [N] bool."""
    inputs = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(criterion(model(inputs), y).sum(), inputs)
    return grad.flatten(1).eq(0).all(1)


def apgd_attack(
    posterior: Posterior,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    loss: str,
    epsilon: float,
    steps: int = 100,
    restarts: int = 1,
    generator: torch.Generator | None = None,
    chunk: int = 16,
) -> dict[str, torch.Tensor]:
    """APGD with loss `ce` or `dlr` in the L-inf ball; the artifact of attacks.run_attack.

    `start` is APGD's own random start (its first restart's: the first input the model
    wrapper sees); `moved`: the returned point is not that start. The zero-gradient flags
    are of the attacked loss at the start and at the returned point. The random starts
    come from torch's global generator, seeded from `generator` (seeded_global_rng).
    """
    if steps < 1 or restarts < 1:
        raise ValueError(f"APGD needs steps >= 1 and restarts >= 1, got {steps} and {restarts}")
    model = PredictiveLogits(posterior, chunk)
    # Imported here: torchattacks pulls in scipy.stats (~1.2 s), which every job that
    # imports the attack registry but runs no library attack would pay at start-up.
    import torchattacks

    attack = torchattacks.APGD(model, norm="Linf", eps=epsilon, steps=steps,
                               n_restarts=restarts, loss=loss)  # fmt: skip
    criterion = (torch.nn.CrossEntropyLoss(reduction="none") if loss == "ce"
                 else attack.dlr_loss)  # fmt: skip
    adversarial, best_loss = None, None
    with seeded_global_rng(generator, x.device):
        for _ in range(restarts):
            x_best, _, loss, _ = attack.attack_single_run(x, y)
            if adversarial is None:
                adversarial, best_loss = x_best.detach().clone(), loss.detach().clone()
            else:
                better = loss > best_loss
                adversarial[better], best_loss[better] = x_best[better].detach(), loss[better]
    start = model.first_input  # the first restart's first model call is at its start
    return {
        "adversarial": adversarial,
        "start": start,
        "moved": perturbed(start, adversarial),
        "zero_gradient_start": _zero_gradient(model, criterion, start, y),
        "zero_gradient_last": _zero_gradient(model, criterion, adversarial, y),
    }


def registry_entries() -> dict:
    """attacks.REGISTRY entries: apgd_ce and apgd_dlr. The gradient attacks' shared
    settings (bayes, attacks.loss) do not apply: APGD always attacks the predictive, with
    its own loss."""

    def entry(name):
        def run(posterior, x, y, *, epsilon, steps=100, restarts=1, generator=None,
                chunk=16, **_shared):  # fmt: skip
            return apgd_attack(posterior, x, y, loss=LOSSES[name], epsilon=epsilon,
                               steps=steps, restarts=restarts, generator=generator,
                               chunk=chunk)  # fmt: skip

        return run

    return {name: entry(name) for name in LOSSES}
