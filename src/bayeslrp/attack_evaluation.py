"""What one attack did to one model at one number of samples n, independent of any
explanation metric: the predictions on the adversarial points, the attack's row of
attacks.csv (with the gradient-masking diagnostics at the clean inputs) and the trivial
baselines' heatmaps. generate_attack computes it right after the attack, in the same job
(one job fewer per model and attack: every job pays ~3 s of `import torch`); what does
not depend on the attack (clean predictions, the masking diagnostics at the clean inputs,
the clean gradient x input) comes from evaluate_clean, once per model. Kept apart from the
scoring (compute_robustness), so that changing a metric or k redoes no backward pass."""

from __future__ import annotations

import math

import torch

from bayeslrp import io
from bayeslrp.baselines import baseline_heatmaps
from bayeslrp.posterior import Posterior


def attack_summary(
    keys: dict,
    x: torch.Tensor,
    result: dict[str, torch.Tensor],
    labels: torch.Tensor,
    p_clean: torch.Tensor,
    p_adv: torch.Tensor,
) -> dict:
    """One row of attacks.csv: success rate, perturbation sizes, clean/adversarial accuracy,
    the fraction of inputs the attack's gradient steps never moved from its own starting
    point (with a random start, an input can differ from x and still be unattacked), and
    the fractions with an exactly zero loss gradient at the start and at the last iterate
    (signs of gradient masking), and of points the attack could not move for that reason
    (correctly classified, not flipped, zero gradient at the start); for a query attack
    (Square) the mean model queries per point and their cost in forward passes (queries x
    n draws), NaN for the others; for an explanation attack (explanation_attacks.py) the
    mean of its objective at x and at the returned point, NaN for the others.
    `result` is an artifact of `attacks.run_attack`."""
    x_adv = result["adversarial"]

    def mean(key):  # of an optional per-point key of the artifact, NaN where absent
        return result[key].double().mean().item() if key in result else math.nan

    queries = mean("queries")
    passes = queries * keys["n_samples"] if "queries" in result else math.nan
    delta = (x_adv - x).flatten(1).double()
    pred_clean, pred_adv = p_clean.argmax(1), p_adv.argmax(1)
    # Stuck: correctly classified, not flipped, and the attacked loss flat at the start. Not
    # every zero gradient is masking: APGD's DLR loss is constant (1) wherever the true class
    # ranks third, on points that are already misclassified.
    stuck = result["zero_gradient_start"] & (pred_clean == labels) & (pred_clean == pred_adv)
    return {
        **keys,
        "n_points": len(labels),
        "success_rate": (pred_clean != pred_adv).double().mean().item(),
        "linf_mean": delta.abs().amax(1).mean().item(),
        "l2_mean": delta.norm(dim=1).mean().item(),
        "unchanged_fraction": (~result["moved"]).double().mean().item(),
        "zero_gradient_start_fraction": result["zero_gradient_start"].double().mean().item(),
        "zero_gradient_last_fraction": result["zero_gradient_last"].double().mean().item(),
        "zero_gradient_stuck_fraction": stuck.double().mean().item(),
        "clean_accuracy": (pred_clean == labels).double().mean().item(),
        "adversarial_accuracy": (pred_adv == labels).double().mean().item(),
        "queries_per_point": queries,
        "forward_passes_per_point": passes,
        "explanation_objective_start": mean("explanation_objective_start"),
        "explanation_objective_end": mean("explanation_objective"),
    }


def evaluate_attack(
    posterior: Posterior,
    x: torch.Tensor,
    labels: torch.Tensor,
    attack: dict[str, torch.Tensor],
    clean: dict[str, torch.Tensor],
    keys: dict,
    seed: int,
) -> tuple[dict[str, torch.Tensor], dict]:
    """({p_clean, p_adv, baseline_<name>_clean, baseline_<name>_adversarial}, the
    attacks.csv row) of one attack artifact section (`attack`, of attacks.run_attack) at
    n = len(posterior); `clean` is evaluate_clean's section for the same n, `keys` the
    row's identifying columns, `seed` that of the random baseline's heatmaps."""
    p_clean, p_adv = clean["p_clean"], posterior.predict_proba(attack["adversarial"])
    row = attack_summary(keys, x, attack, labels, p_clean, p_adv)
    row.update({name: value.item() for name, value in io.section(clean, "masking").items()})
    generator = torch.Generator().manual_seed(seed)
    baselines = baseline_heatmaps(posterior, x, attack["adversarial"],
                                  clean["baseline_gradient_x_input_clean"], p_adv.argmax(1),
                                  generator)  # fmt: skip
    evaluation = {"p_clean": p_clean, "p_adv": p_adv}
    for name, (clean_heat, adversarial) in baselines.items():
        evaluation[f"baseline_{name}_clean"] = clean_heat
        evaluation[f"baseline_{name}_adversarial"] = adversarial
    return evaluation, row
