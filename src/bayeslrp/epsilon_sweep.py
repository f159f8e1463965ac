"""Attack success against the radius: the check that an attack really attacks (Carlini et
al. 2019, "On evaluating adversarial robustness": an unbounded attack must reach 100 %).

At epsilon = 1 every image in [0, 1] can be reached from every other, so a working attack
leaves no point classified correctly; a model that keeps its accuracy there has gradients
(or a loss) the attack cannot use, and is flagged as masked.
"""

from __future__ import annotations

import pandas as pd
import torch

from bayeslrp.attacks import run_attack
from bayeslrp.posterior import Posterior


def sweep(
    posterior: Posterior,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    attack: str,
    epsilons: list[float],
    settings: dict,
    generator_seed: int,
    log=None,
    **shared,
) -> pd.DataFrame:
    """One row per epsilon: the attack `attack` with its `settings` at that radius.
    success_rate = the predicted class changed; adversarial_accuracy = still the true
    label (AutoAttack's robust accuracy). Each radius gets a generator seeded alike, so a
    radius's row does not depend on which other radii are swept."""
    with torch.no_grad():
        clean = posterior.predict_proba(x).argmax(1)
    rows = []
    for epsilon in epsilons:
        result = run_attack(posterior, x, y, attack=attack, **{**settings, "epsilon": epsilon},
                            generator=torch.Generator().manual_seed(generator_seed),
                            **shared)  # fmt: skip
        with torch.no_grad():
            adversarial = posterior.predict_proba(result["adversarial"]).argmax(1)
        rows.append({
            "epsilon": epsilon, "points": len(x),
            "clean_accuracy": (clean == y).double().mean().item(),
            "success_rate": (adversarial != clean).double().mean().item(),
            "adversarial_accuracy": (adversarial == y).double().mean().item(),
        })  # fmt: skip
        if log is not None:
            log.info("%s at epsilon %g: %s", attack, epsilon, rows[-1])
    return pd.DataFrame(rows)


def masked(table: pd.DataFrame, max_accuracy: float) -> bool:
    """The attack failed to break the model at its largest radius: adversarial accuracy
    above `max_accuracy` there (a sign of gradient masking, or of a broken attack)."""
    widest = table.loc[table["epsilon"].idxmax()]
    return bool(widest["adversarial_accuracy"] > max_accuracy)
