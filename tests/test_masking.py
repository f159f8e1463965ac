"""Gradient-masking flags: the McNemar test against its definition, and each check on
tables built to trip it."""

import math

import numpy as np
import pandas as pd
import pytest

from bayeslrp.masking import beats, flipped, masking_flags

MODEL = {"dataset": "mnist", "arch": "fc", "seed": 0}


def robustness(inference, n, success: dict[str, list[bool]], layers=(1, 2)):
    """robustness.csv rows of one model: every attack's per-point success, repeated for
    two layers and two metrics as the real table repeats it."""
    rows = [
        {**MODEL, "inference": inference, "n_samples": n, "attack": attack, "point": point,
         "attack_success": hit, "layer": layer, "metric": metric}
        for attack, hits in success.items() for point, hit in enumerate(hits)
        for layer in layers for metric in ("top10_overlap", "spearman")
    ]  # fmt: skip
    return pd.DataFrame(rows)


def attacks_table(inference, n, zero: dict[str, float]):
    return pd.DataFrame([{**MODEL, "inference": inference, "n_samples": n, "attack": a,
                          "zero_gradient_stuck_fraction": z} for a, z in zero.items()])  # fmt: skip


def flags(frame, attacks=None, sweep=None, source="det"):
    if attacks is None:
        attacks = attacks_table("hmc", 10, {})
        attacks = attacks.reindex(columns=[*MODEL, "inference", "n_samples", "attack",
                                           "zero_gradient_stuck_fraction"])  # fmt: skip
    return masking_flags(frame, attacks, sweep, alpha=0.01, max_zero_gradient=0.05,
                         transfer_source=source).set_index(["check", "attack"])  # fmt: skip


def test_beats_is_the_exact_binomial_tail_of_the_discordant_points():
    a = np.array([True] * 12 + [False] * 3 + [True] * 5 + [False] * 10)
    b = np.array([False] * 12 + [True] * 3 + [True] * 5 + [False] * 10)
    result = beats(a, b)
    assert (result["attack_only"], result["reference_only"]) == (12, 3)
    # P(X >= 12), X ~ Binomial(15, 1/2), from the definition
    expected = sum(math.comb(15, k) for k in range(12, 16)) / 2**15
    assert result["p_value"] == pytest.approx(expected, rel=1e-12)
    assert result["value"] == pytest.approx(17 / 30)
    assert beats(a, a)["p_value"] == 1.0  # no discordant point


def test_flipped_refuses_rows_that_disagree():
    frame = robustness("det", 1, {"fgsm": [True, False]})
    frame.loc[0, "attack_success"] = False  # the same point, another layer: now disagreeing
    frame.loc[1, "attack_success"] = True
    with pytest.raises(ValueError, match="disagree"):
        flipped(frame)


def test_one_step_beating_the_iterative_attacks_is_flagged():
    points = 40
    # FGSM flips 20 points; PGD flips 2 of those; APGD flips the same 2: the union misses 18
    fgsm = [True] * 20 + [False] * 20
    pgd = [True] * 2 + [False] * 38
    table = flags(robustness("hmc", 10, {"fgsm": fgsm, "pgd": pgd, "apgd_dlr": pgd}))
    row = table.loc[("one_step_beats_iterative", "fgsm")]
    assert row["reference"] == "apgd_dlr+pgd" or row["reference"] == "pgd+apgd_dlr"
    assert (row["attack_only"], row["reference_only"]) == (18, 0)
    assert row["verdict"] == "flagged" and row["value"] == 20 / points
    # the reverse does not flag: PGD stronger than FGSM is the normal case
    table = flags(robustness("hmc", 10, {"fgsm": pgd, "pgd": fgsm}))
    assert table.loc[("one_step_beats_iterative", "fgsm"), "verdict"] == "passed"


def test_black_box_and_noise_checks_use_the_union_of_the_gradient_attacks():
    strong = [True] * 30 + [False] * 10
    weak = [True] * 5 + [False] * 35
    success = {"fgsm": weak, "pgd": weak, "square": strong, "transfer": weak, "noise": strong}
    table = flags(robustness("hmc", 10, success))
    assert table.loc[("black_box_beats_white_box", "square"), "verdict"] == "flagged"
    assert table.loc[("black_box_beats_white_box", "transfer"), "verdict"] == "passed"
    assert table.loc[("noise_beats_gradient", "noise"), "verdict"] == "flagged"
    # a gradient attack that flips every point noise flips clears the noise check
    table = flags(robustness("hmc", 10, {**success, "pgd": strong}))
    assert table.loc[("noise_beats_gradient", "noise"), "verdict"] == "passed"
    assert table.loc[("black_box_beats_white_box", "square"), "verdict"] == "passed"


def test_transfer_to_its_own_source_is_not_a_black_box_check():
    success = {"pgd": [True, False], "transfer": [True, True]}
    table = flags(robustness("det", 1, success))
    assert ("black_box_beats_white_box", "transfer") not in table.index
    table = flags(robustness("det", 1, success), source="twin")
    assert ("black_box_beats_white_box", "transfer") in table.index


def test_checks_without_their_reference_are_not_applicable():
    table = flags(robustness("hmc", 10, {"fgsm": [True, False], "square": [True, True]}))
    assert table.loc[("one_step_beats_iterative", "fgsm"), "verdict"] == "not applicable"
    assert table.loc[("black_box_beats_white_box", "square"), "verdict"] == "passed"


def test_zero_gradients_and_the_unbounded_sweep_are_flagged_past_their_limits():
    frame = robustness("hmc", 10, {"fgsm": [True, False]})
    attacks = attacks_table("hmc", 10, {"fgsm": 0.5, "pgd": 0.0, "square": 0.9, "noise": 0.0})
    sweep = pd.DataFrame([
        {**MODEL, "inference": "hmc", "n_samples": 10, "attack": "apgd_dlr", "epsilon": e,
         "adversarial_accuracy": a, "masked": True}
        for e, a in ((0.25, 0.6), (1.0, 0.3))
    ])  # fmt: skip
    table = flags(frame, attacks, sweep)
    assert table.loc[("zero_gradient", "fgsm"), "verdict"] == "flagged"
    assert table.loc[("zero_gradient", "pgd"), "verdict"] == "passed"
    assert ("zero_gradient", "square") not in table.index  # no gradient taken
    row = table.loc[("unbounded_below_100", "apgd_dlr")]
    assert row["verdict"] == "flagged" and row["value"] == 0.3
    # a sweep that stops short of epsilon = 1 cannot test an unbounded attack
    table = flags(frame, attacks, sweep[sweep["epsilon"] < 1])
    assert table.loc[("unbounded_below_100", "apgd_dlr"), "verdict"] == "not applicable"
