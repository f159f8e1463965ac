"""Gradient-masking flags per model and n: were the networks really attacked?

The checks of Athalye, Carlini & Wagner (ICML 2018), Carlini et al. (2019, "On evaluating
adversarial robustness") and AutoAttack (Croce & Hein 2020), computed from the tables the
workflow already has (robustness.csv's per-point predictions, attacks.csv, the epsilon
sweep):

- zero_gradient: more than a tolerated share of the points are stuck: correctly
  classified, not flipped, and the attacked loss has an exactly zero gradient at the
  attack's start (a saturated softmax: the attack cannot move);
- one_step_beats_iterative: FGSM flips points no iterative gradient attack flips,
  significantly more often than the reverse;
- black_box_beats_white_box: Square or transfer (no gradient of the model) beats every
  white-box gradient attack in the same sense;
- noise_beats_gradient: uniform noise in the ball beats every gradient attack;
- unbounded_below_100: the epsilon sweep leaves points correctly classified at epsilon = 1,
  where every image is reachable.

"A beats B" is an exact one-sided McNemar (sign) test on the points, the independent unit:
among the points flipped by exactly one side, does A's side hold significantly more than
half? B is the union of its attacks (a point counts as flipped if any of them flips it):
the worst case over the white-box attacks, as AutoAttack reports. The check that
probabilities rather than log-probabilities are attacked needs no data: no attack here
differentiates probabilities (attacks.py: per-draw log-softmax; APGD and Square: the log
posterior predictive, predictive_model.py), so it has no row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from bayeslrp.names import BLACK_BOX_ATTACKS, CONTROL_ATTACKS, ONE_STEP_ATTACKS

MODEL_KEYS = ["dataset", "arch", "inference", "seed", "n_samples"]
COLUMNS = [*MODEL_KEYS, "check", "attack", "reference", "value", "reference_value",
           "attack_only", "reference_only", "p_value", "verdict"]  # fmt: skip
VERDICTS = ("flagged", "passed", "not applicable")


def flipped(robustness: pd.DataFrame) -> pd.DataFrame:
    """attack_success per model, n and point, one column per attack: the rows of
    robustness.csv repeat it for every explainer, layer and metric."""
    rows = robustness[[*MODEL_KEYS, "attack", "point", "attack_success"]].drop_duplicates()
    duplicated = rows.duplicated([*MODEL_KEYS, "attack", "point"])
    if duplicated.any():
        raise ValueError("robustness rows disagree on attack_success for the same model, "
                         "attack and point; rebuild results/tables/robustness.csv")  # fmt: skip
    return rows.pivot(index=[*MODEL_KEYS, "point"], columns="attack", values="attack_success")


def beats(attack: np.ndarray, reference: np.ndarray) -> dict:
    """Exact one-sided McNemar test that `attack` flips more points than `reference` (both
    boolean per point): the discordant counts and the p-value (1 with no discordant
    point)."""
    attack_only = int((attack & ~reference).sum())
    reference_only = int((~attack & reference).sum())
    discordant = attack_only + reference_only
    p = binomtest(attack_only, discordant, 0.5, alternative="greater").pvalue if discordant else 1.0
    return {"value": float(attack.mean()), "reference_value": float(reference.mean()),
            "attack_only": attack_only, "reference_only": reference_only,
            "p_value": float(p)}  # fmt: skip


def _row(keys: dict, check: str, attack: str, reference: str, alpha: float, **stats) -> dict:
    if "p_value" in stats:
        verdict = "flagged" if stats["p_value"] < alpha else "passed"
    else:
        verdict = stats.pop("verdict")
    return {**keys, "check": check, "attack": attack, "reference": reference, **stats,
            "verdict": verdict}  # fmt: skip


def _comparisons(keys: dict, success: pd.DataFrame, alpha: float, source: str) -> list[dict]:
    """The three 'A beats B' checks of one model at one n (`success`: points x attacks)."""
    present = [a for a in success.columns if success[a].notna().all()]
    gradient = [a for a in present if a not in BLACK_BOX_ATTACKS + CONTROL_ATTACKS]
    iterative = [a for a in gradient if a not in ONE_STEP_ATTACKS]
    black_box = [a for a in present if a in BLACK_BOX_ATTACKS]
    if keys["inference"] == source:  # transfer from itself is a white-box attack
        black_box = [a for a in black_box if a != "transfer"]

    def union(names):
        return success[names].to_numpy(dtype=bool).any(1)

    def compare(check, attack, reference):
        if not reference:
            return _row(keys, check, attack, "", alpha, verdict="not applicable")
        stats = beats(success[attack].to_numpy(dtype=bool), union(reference))
        return _row(keys, check, attack, "+".join(reference), alpha, **stats)

    rows = [compare("one_step_beats_iterative", a, iterative)
            for a in gradient if a in ONE_STEP_ATTACKS]  # fmt: skip
    rows += [compare("black_box_beats_white_box", a, gradient) for a in black_box]
    rows += [compare("noise_beats_gradient", a, gradient) for a in present if a in CONTROL_ATTACKS]
    return rows


def masking_flags(
    robustness: pd.DataFrame,
    attacks: pd.DataFrame,
    sweep: pd.DataFrame | None,
    *,
    alpha: float,
    max_zero_gradient: float,
    transfer_source: str,
) -> pd.DataFrame:
    """One row per (model, n, check, attack) with its verdict (VERDICTS).

    `robustness`, `attacks`: results/tables/robustness.csv and attacks.csv; `sweep`: the
    epsilon sweep table (plot_epsilon_sweep: with `masked` and `largest_epsilon`), or None.
    `alpha`: the level of the McNemar checks; `max_zero_gradient`: the share of points
    stuck at a zero gradient tolerated; `transfer_source`: the family transfer crafts on (its own
    transfer rows are white-box).
    """
    rows = []
    success = flipped(robustness)
    for key, table in success.groupby(level=MODEL_KEYS, sort=True):
        rows += _comparisons(dict(zip(MODEL_KEYS, key, strict=True)), table, alpha,
                             transfer_source)  # fmt: skip
    white_box = attacks[~attacks["attack"].isin(BLACK_BOX_ATTACKS + CONTROL_ATTACKS)]
    for record in white_box.to_dict("records"):
        share = record["zero_gradient_stuck_fraction"]
        rows.append(_row({k: record[k] for k in MODEL_KEYS}, "zero_gradient", record["attack"],
                         "max_zero_gradient", alpha, value=share,
                         reference_value=max_zero_gradient,
                         verdict="flagged" if share > max_zero_gradient else "passed"))  # fmt: skip
    if sweep is not None:
        for key, table in sweep.groupby(MODEL_KEYS, sort=True):
            widest = table.loc[table["epsilon"].idxmax()]
            applicable = widest["epsilon"] >= 1.0
            verdict = ("flagged" if widest["masked"] else "passed") if applicable else \
                "not applicable"  # fmt: skip
            rows.append(_row(dict(zip(MODEL_KEYS, key, strict=True)), "unbounded_below_100",
                             widest["attack"], "epsilon 1", alpha,
                             value=float(widest["adversarial_accuracy"]),
                             reference_value=np.nan, verdict=verdict))  # fmt: skip
    frame = pd.DataFrame(rows).reindex(columns=COLUMNS)
    return frame.sort_values([*MODEL_KEYS, "check", "attack"], ignore_index=True)
