"""Square (Andriushchenko et al., ECCV 2020): a score-based, gradient-free L-inf attack, from
torchattacks, against the posterior predictive (predictive_model.PredictiveLogits).

It needs no gradient, so masked gradients cannot stop it: where Square beats the white-box
attacks on a model, that model's gradients are masked (the masking checklist of Carlini
et al. 2019). Every model gets the same query budget (`queries` per point); the cost of a
Bayesian net's query is one forward pass per draw, reported in attacks.csv as
forward passes per point.

The library's `forward` returns the clean image wherever the label did not change; this
calls its single run, which returns the lowest-margin point it found for every input, so
explanations are scored at the point the attack reached, as for the other attacks.
"""

from __future__ import annotations

import torch

from bayeslrp.metrics import perturbed
from bayeslrp.posterior import Posterior
from bayeslrp.predictive_model import PredictiveLogits, seeded_global_rng


def square_attack(
    posterior: Posterior,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    epsilon: float,
    queries: int = 1000,
    p_init: float = 0.8,
    generator: torch.Generator | None = None,
    chunk: int = 16,
    **_shared,  # the gradient attacks' shared settings (bayes, loss): unused
) -> dict[str, torch.Tensor]:
    """Square with the margin loss; the artifact of attacks.run_attack plus `queries` [N]
    (the model queries each point used: fewer than the budget where the label flipped).

    The attack starts at x, as noise does: Square's random stripes of +-epsilon are its
    first query, part of its search, not a start its later queries must move away from
    (where they flip the label, Square stops there); `moved` is then "differs from x". No
    gradient is taken: the zero-gradient flags are False. Randomness from `generator`
    (seeded_global_rng).
    """
    if queries < 1:
        raise ValueError(f"attacks.square.queries must be >= 1, got {queries}")
    model = PredictiveLogits(posterior, chunk)
    # Imported here: torchattacks pulls in scipy.stats (~1.2 s), which every job that
    # imports the attack registry but runs no library attack would pay at start-up.
    import torchattacks

    attack = torchattacks.Square(model, norm="Linf", eps=epsilon, n_queries=queries,
                                 p_init=p_init, loss="margin")  # fmt: skip
    attack.init_hyperparam(x)
    with seeded_global_rng(generator, x.device):
        used, adversarial = attack.attack_single_run(x, y)
    no_gradient = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    return {"adversarial": adversarial.detach(), "start": x,
            "moved": perturbed(x, adversarial), "zero_gradient_start": no_gradient,
            "zero_gradient_last": no_gradient, "queries": used.to(x.device)}  # fmt: skip
