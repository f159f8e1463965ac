"""Claims C1-C5 on synthetic robustness tables built so that each verdict is known."""

import numpy as np
import pandas as pd
import pytest

from bayeslrp.claims import (
    CLAIM_COLUMNS,
    baseline_comparison,
    claims_breakdown,
    claims_by_explainer,
    claims_table,
    evaluate_claims,
    verdict,
)
from bayeslrp.models import LEARNABLE_LAYERS, output_layer
from bayeslrp.summary_text import summary_page
from bayeslrp.tables import robustness_summary

SETTINGS = {"k": 10, "k_correlation": 100, "c1_max": 0.5, "c2_min": 0.8, "c3_min": 0.0,
            "c4_min": 0.0, "c5_min": 0.0, "c5_det_max": 0.1, "c6_min": 0.0, "c2b_min": 0.0,
            "c2m_min": 0.0, "c5m_min": 0.0, "c7_min": 0.0,
            "confidence": 0.95,
            "bootstrap": 200, "bootstrap_seed": 0}  # fmt: skip


def synthetic_table(seeds=(0, 1, 2), points=60, bayes_follows_softmax=False):
    """Robustness rows where: det is low (C1 holds), Bayesian at n=100 is near 1 (C2 holds),
    Bayesian grows with n (C3 holds), VI is wide in inner layers and HMC is not (C4 holds),
    det robustness tracks softmax robustness (C5b fails) and Bayesian does not (C5a fails)
    unless `bayes_follows_softmax`."""
    rng = np.random.default_rng(1)
    rows = []
    for seed in seeds:
        for model, ns in (("fc_det", [1]), ("conv_det", [1]), ("fc_hmc", [10, 50, 100]),
                          ("conv_vi", [10, 50, 100])):  # fmt: skip
            arch, inference = model.split("_")
            for n in ns:
                for layer in LEARNABLE_LAYERS[arch]:
                    inner = layer != output_layer(arch)
                    for k in (10, 100):
                        softmax = rng.uniform(0.3, 1.0, points)
                        noise = rng.uniform(-0.05, 0.05, points)
                        if inference == "det":
                            lrp = 0.2 + 0.2 * (softmax - 0.3) + noise
                        else:
                            base = 0.75 + 0.2 * n / 100  # 0.77, 0.85, 0.95
                            spread = 0.3 if inference == "vi" and inner else 0.02
                            lrp = base + rng.uniform(-spread, spread, points)
                            if bayes_follows_softmax:
                                lrp = 0.5 + 0.5 * softmax + noise
                        rows.append(pd.DataFrame({
                            "dataset": "mnist", "arch": arch, "inference": inference,
                            "seed": seed, "attack": "fgsm", "epsilon": 0.25, "n_samples": n,
                            "layer": layer, "k": k, "metric": f"top{k}_overlap",
                            "point": np.arange(points), "label": 0,
                            "pred_clean": 0, "pred_adv": np.arange(points) % 3 == 0,
                            "attack_success": np.arange(points) % 3 == 0,
                            "softmax_robustness": softmax,
                            "explanation_robustness": np.clip(lrp, 0, 1), "perturbed": True,
                            "explainer": "lrp",
                        }))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def test_claims_on_a_table_built_so_that_c1_to_c4_hold_and_c5_fails():
    claims = evaluate_claims(synthetic_table(), SETTINGS).set_index("claim")
    assert list(claims.reset_index().columns) == CLAIM_COLUMNS
    assert claims["verdict"].to_dict() == {
        "C1": "supported", "C2": "supported", "C2m": "supported", "C2b": "inconclusive",
        "C3": "supported", "C4": "supported", "C5a": "inconclusive", "C5b": "not supported",
        "C5m": "not supported", "C6": "inconclusive", "C7": "inconclusive",
    }  # fmt: skip
    assert "averaging control" in claims.loc["C6", "note"]
    assert "beta_lrp" in claims.loc["C7", "note"]
    assert "twin" in claims.loc["C2b", "note"]
    # C5a: independent in every group; 6 sampling errors of a mean of six 60-point rhos
    assert abs(claims.loc["C5a", "value"]) < 0.3 and claims.loc["C5b", "value"] > 0.8
    # det: 0.2 + 0.2 (softmax - 0.3) with softmax ~ U(0.3, 1): median 0.2 + 0.2 * 0.35
    assert claims.loc["C1", "value"] == pytest.approx(0.27, abs=0.02)
    assert claims.loc["C2", "value"] == pytest.approx(0.95, abs=0.01)
    # (C3's interval is near-degenerate here: n alone orders the Bayesian scores)
    defined = claims.drop(index=["C6", "C2b", "C7"])  # no controls, twin or beta_lrp here
    assert (defined["ci_low"] <= defined["value"] + 1e-3).all()
    assert (defined["value"] <= defined["ci_high"] + 1e-3).all()
    assert (defined["n_seeds"] == 3).all()
    assert claims.loc["C2", "p_value"] < 1e-6  # Bayesian far above det


def test_matched_strength_removes_a_difference_that_only_the_attack_strength_made():
    """Det and HMC explanations follow softmax robustness alike (LRP = value / 5), but the
    attack moves det's predictions more: det's points sit on low values, HMC's on high
    ones. At equal epsilon HMC looks more robust by (3.5 - 2.5) / 5 = 0.2; within strata of
    softmax robustness (each of the 5 values its own quintile: 40 pooled points each) the
    difference is exactly 0."""
    det_values = np.repeat([1, 2, 3, 4, 5], [30, 25, 20, 15, 10])
    hmc_values = np.repeat([1, 2, 3, 4, 5], [10, 15, 20, 25, 30])
    rows = []
    for inference, n, values in (("det", 1, det_values), ("hmc", 100, hmc_values)):
        for k in (10, 100):
            rows.append(pd.DataFrame({
                "dataset": "mnist", "arch": "fc", "inference": inference, "seed": 0,
                "attack": "pgd", "epsilon": 0.25, "n_samples": n, "layer": output_layer("fc"),
                "k": k, "metric": f"top{k}_overlap", "point": np.arange(100), "label": 0,
                "pred_clean": 0, "pred_adv": 0, "attack_success": False,
                "softmax_robustness": values / 5, "explanation_robustness": values / 5,
                "perturbed": True, "explainer": "lrp",
            }))  # fmt: skip
    claims = evaluate_claims(pd.concat(rows, ignore_index=True), SETTINGS).set_index("claim")
    assert claims.loc["C2", "p_value"] < 1e-3  # paired at equal epsilon: HMC "wins"
    assert claims.loc["C2m", "value"] == pytest.approx(0.0, abs=1e-12)
    assert claims.loc["C2m", "verdict"] != "supported"
    assert claims.loc["C2m", "n_rows"] == 200  # HMC's 100 rows and det's 100 at k = 10
    # the same relation on both sides: equal rank correlations (1) on the shared strata
    assert claims.loc["C5m", "value"] == pytest.approx(0.0, abs=1e-12)


def with_control(table, inference, ns, offset, seed=2):
    """`table` plus a control of the fc HMC net: its rows at `ns`, robustness lowered by
    `offset`, with independent U(-0.05, 0.05) noise."""
    rng = np.random.default_rng(seed)
    control = table[(table["inference"] == "hmc") & table["n_samples"].isin(ns)].copy()
    control["inference"] = inference
    noise = rng.uniform(-0.05, 0.05, len(control))
    control["explanation_robustness"] = control["explanation_robustness"] - offset + noise
    return pd.concat([table, control], ignore_index=True)


@pytest.mark.parametrize("offset, expected", [(0.1, "supported"), (-0.1, "not supported")])
def test_c2b_pairs_hmc_at_its_largest_n_with_the_twin_of_its_architecture(offset, expected):
    table = synthetic_table()
    twin = with_control(table, "twin", [100], offset)
    twin.loc[twin["inference"] == "twin", "n_samples"] = 1  # a single network
    claims = evaluate_claims(twin, SETTINGS).set_index("claim")
    # HMC n=100 minus the twin: offset plus noise of mean 0 (as in the C6 test below)
    assert claims.loc["C2b", "value"] == pytest.approx(offset, abs=0.02)
    assert claims.loc["C2b", "verdict"] == expected
    assert claims.loc["C2b", "p_value"] < 1e-6 if offset > 0 else claims.loc["C2b", "p_value"] > 0.5
    # one group (mnist, fgsm, fc): 60 points x 3 seeds paired rows, HMC at n = 100 only
    assert claims.loc["C2b", "n_rows"] == 180
    # the twin is a deterministic net, not a Bayesian one or the study's det: nothing else moved
    before = evaluate_claims(table, SETTINGS).set_index("claim")
    for claim in ("C1", "C2", "C3", "C4", "C5a", "C5b"):
        assert claims.loc[claim, "value"] == before.loc[claim, "value"], claim


@pytest.mark.parametrize("offset, expected", [(0.1, "supported"), (-0.1, "not supported")])
def test_c6_compares_bayesian_nets_with_the_averaging_controls_at_the_same_n(offset, expected):
    table = synthetic_table()
    # A deep ensemble of 10 members (evaluated at n = 10 only) and weight noise at every n.
    controlled = with_control(with_control(table, "ensemble", [10], offset), "weight_noise",
                              [10, 50, 100], offset, seed=3)  # fmt: skip
    claims = evaluate_claims(controlled, SETTINGS).set_index("claim")
    # mean of paired differences: offset, minus noise of mean 0 (sd 0.029 / sqrt(60 points
    # x 3 seeds) per group); 0.02 is > 5 standard errors of the mean over 4 groups
    assert claims.loc["C6", "value"] == pytest.approx(offset, abs=0.02)
    assert claims.loc["C6", "verdict"] == expected
    assert claims.loc["C6", "p_value"] < 1e-6 if offset > 0 else claims.loc["C6", "p_value"] > 0.5
    # The controls are not Bayesian nets: C2-C5a did not change.
    before = evaluate_claims(table, SETTINGS).set_index("claim")
    for claim in ("C2", "C3", "C4", "C5a"):
        assert claims.loc[claim, "value"] == before.loc[claim, "value"], claim


def test_c5_holds_when_bayesian_robustness_follows_softmax_robustness():
    claims = evaluate_claims(synthetic_table(bayes_follows_softmax=True), SETTINGS)
    assert claims.set_index("claim").loc["C5a", "verdict"] == "supported"


def test_an_interval_across_the_threshold_is_inconclusive():
    assert verdict(0.7, 0.9, 0.8, "above") == "inconclusive"
    assert verdict(0.81, 0.9, 0.8, "above") == "supported"
    assert verdict(0.6, 0.8, 0.8, "above") == "not supported"
    assert verdict(0.1, 0.4, 0.5, "below") == "supported"
    assert verdict(np.nan, np.nan, 0.5, "below") == "inconclusive"
    assert verdict(-0.05, 0.08, 0.1, "within") == "supported"
    assert verdict(0.05, 0.2, 0.1, "within") == "inconclusive"
    assert verdict(0.1, 0.3, 0.1, "within") == "not supported"
    assert verdict(-0.4, -0.2, 0.1, "within") == "not supported"


def test_missing_model_families_make_a_claim_inconclusive_with_a_note():
    table = synthetic_table(seeds=(0,))
    claims = evaluate_claims(table[table["inference"] != "vi"], SETTINGS).set_index("claim")
    assert claims.loc["C4", "verdict"] == "inconclusive" and np.isnan(claims.loc["C4", "value"])
    assert "VI" in claims.loc["C4", "note"]
    assert claims.loc["C4", "n_seeds"] == 0


def test_same_settings_give_the_same_claims():
    table = synthetic_table(seeds=(0,), points=30)
    pd.testing.assert_frame_equal(
        evaluate_claims(table, SETTINGS), evaluate_claims(table, SETTINGS)
    )


def test_breakdown_reports_perturbed_points_separately():
    # Every unperturbed point scores a trivial 1.0 (a masked attack); on the perturbed
    # points alone the Bayesian median is low.
    table = synthetic_table(seeds=(0,), points=60)
    table["perturbed"] = table["point"] % 2 == 0
    bayes = table["inference"] != "det"
    table.loc[bayes & ~table["perturbed"], "explanation_robustness"] = 1.0
    table.loc[bayes & table["perturbed"], "explanation_robustness"] = 0.3
    breakdown = claims_breakdown(table, SETTINGS)
    assert set(breakdown["dataset"]) == {"all", "mnist"}
    claims = claims_table(breakdown).set_index("claim")
    assert claims.loc["C2", "value"] == 0.65  # median of half 1.0, half 0.3
    assert claims.loc["C2", "value_perturbed"] == 0.3
    assert claims.loc["C2", "verdict_perturbed"] == "not supported"


def test_breakdown_gives_each_attack_its_own_verdict():
    # PGD leaves the Bayesian explanations at ~0.95 (as FGSM does); noise is a control
    table = synthetic_table(seeds=(0,), points=30)
    pgd = table.assign(attack="pgd")
    pgd.loc[pgd["inference"] != "det", "explanation_robustness"] = 0.2
    noise = table.assign(attack="noise")
    table = pd.concat([table, pgd, noise], ignore_index=True)
    breakdown = claims_breakdown(table, SETTINGS)
    assert set(breakdown["attack"]) == {"all", "fgsm", "pgd"}  # the control has none
    per_attack = breakdown[breakdown["attack"] != "all"]
    assert set(per_attack["dataset"]) == {"all"} and per_attack["n_samples"].isna().all()
    c2 = per_attack.query("claim == 'C2' and subset == 'all'").set_index("attack")
    assert c2.loc["fgsm", "verdict"] == "supported" and c2.loc["pgd", "verdict"] == "not supported"
    assert c2.loc["pgd", "value"] == 0.2
    # each attack's row is the claim computed on that attack's rows alone
    alone = evaluate_claims(table[table["attack"] == "fgsm"], SETTINGS).set_index("claim")
    assert c2.loc["fgsm", "value"] == alone.loc["C2", "value"]
    # claims.csv keeps the pooled row
    pooled = claims_table(breakdown).set_index("claim")
    assert pooled.loc["C2", "value"] == evaluate_claims(table, SETTINGS).set_index("claim").loc[
        "C2", "value"]


@pytest.mark.parametrize("offset, expected", [(0.1, "supported"), (-0.1, "not supported")])
def test_c7_compares_bayesian_nets_with_the_beta_smoothed_det_net(offset, expected):
    """The det net's beta_lrp rows: the HMC net's at n = 100 lowered by `offset` (plus noise
    of mean 0), as a single network; only C7 reads them."""
    table = synthetic_table()
    smoothed = with_control(table, "det", [100], offset)
    rival = smoothed.index >= len(table)
    smoothed.loc[rival, "n_samples"], smoothed.loc[rival, "explainer"] = 1, "beta_lrp"
    smoothed.loc[rival, "arch"] = "fc"
    claims = claims_table(claims_breakdown(smoothed, SETTINGS)).set_index("claim")
    assert claims.loc["C7", "value"] == pytest.approx(offset, abs=0.02)  # as C6 above
    assert claims.loc["C7", "verdict"] == expected
    assert claims.loc["C7", "n_rows"] == 180  # fc HMC at n = 100: 60 points x 3 seeds
    before = claims_table(claims_breakdown(table, SETTINGS)).set_index("claim")
    for claim in ("C1", "C2", "C2m", "C3", "C4", "C5a", "C5b", "C5m", "C6"):
        assert claims.loc[claim, "value"] == before.loc[claim, "value"] or (
            np.isnan(claims.loc[claim, "value"]) and np.isnan(before.loc[claim, "value"])), claim


def test_explanation_attacks_are_a_slice_of_their_own_not_pooled_with_label_attacks():
    table = synthetic_table(seeds=(0,), points=30)
    topk = table.assign(attack="topk")
    topk.loc[topk["inference"] != "det", "explanation_robustness"] = 0.1
    manipulation = topk.assign(attack="manipulation")
    both = pd.concat([table, topk, manipulation], ignore_index=True)
    breakdown = claims_breakdown(both, SETTINGS)
    assert set(breakdown["attack"]) == {"all", "fgsm", "topk", "manipulation", "explanation"}
    c2 = breakdown.query("claim == 'C2' and subset == 'all' and dataset == 'all'")
    c2 = c2.set_index("attack")["value"]
    alone = evaluate_claims(table, SETTINGS).set_index("claim").loc["C2", "value"]
    assert c2["all"] == alone  # the study's claims: attacks on the label only
    assert c2["explanation"] == 0.1 and c2["topk"] == 0.1


def test_summary_quartiles_and_mean_interval():
    table = synthetic_table(seeds=(0,), points=40)
    summary = robustness_summary(table, n_boot=200)
    row = summary.query(
        "inference == 'det' and arch == 'fc' and layer == 5 and metric == 'top10_overlap'"
        " and quantity == 'explanation_robustness' and subset == 'all'"
    )
    assert len(row) == 1
    row = row.iloc[0]
    values = table[(table["arch"] == "fc") & (table["inference"] == "det") & (table["layer"] == 5)
                   & (table["k"] == 10)]["explanation_robustness"]  # fmt: skip
    assert row["median"] == pytest.approx(values.median())
    assert row["q25"] == pytest.approx(values.quantile(0.25))
    assert row["mean_ci_low"] < values.mean() < row["mean_ci_high"]
    assert row["count"] == 40 and row["nan_count"] == 0
    failed = summary[
        (summary["subset"] == "attack_failed") & (summary["quantity"] == "explanation_robustness")
    ]
    assert (failed["count"] == 26).all()  # points 1, 2, 4, 5, ... of 40: the attack failed


def test_baseline_comparison_flags_lrp_that_does_not_beat_a_trivial_explanation():
    table = synthetic_table(seeds=(0,), points=20)
    output = table[table["layer"] == table["arch"].map({"fc": 5, "conv": 7})]
    # the input baseline scores 0.9 everywhere: only Bayesian LRP at n = 100 (~0.95) beats it
    baselines = pd.concat(
        [output.assign(explainer=name, explanation_robustness=value)
         for name, value in (("input", 0.9), ("random", 0.01), ("gradient_x_input", 0.5))],
        ignore_index=True,
    )  # fmt: skip
    comparison = baseline_comparison(table, baselines)
    comparison = comparison[comparison["metric"] == "top10_overlap"].set_index(
        ["arch", "n_samples"]
    )
    assert comparison.loc[("fc", 100), "beats_baselines"]
    assert not comparison.loc[("fc", 1), "beats_baselines"]  # det ~0.27 < 0.9
    assert not comparison.loc[("fc", 10), "beats_baselines"]  # 0.77 < 0.9
    assert comparison.loc[("fc", 100), "input"] == 0.9
    page = summary_page(claims_table(claims_breakdown(table, SETTINGS)), "Intro.", SETTINGS,
                        comparison.reset_index())  # fmt: skip
    assert "hmc nets at the largest n" in page and "in 1 of 1" in page
    assert "det nets" in page and "in 0 of 2" in page


def test_the_plain_answer_names_masking_and_the_sensitivity_verdicts():
    table = synthetic_table(seeds=(0,), points=20)
    table["perturbed"] = table["point"] % 4 == 0  # three quarters left unchanged
    bayes = table["inference"] != "det"
    table.loc[bayes & ~table["perturbed"], "explanation_robustness"] = 1.0  # masked points score 1
    table.loc[bayes & table["perturbed"], "explanation_robustness"] = 0.9
    claims = claims_table(claims_breakdown(table, SETTINGS))
    attacks = pd.DataFrame({"inference": ["det", "hmc"], "unchanged_fraction": [0.0, 0.5],
                            "zero_gradient_fraction": [0.0, 0.5],
                            "saturated_fraction": [0.1, 1.0]})  # fmt: skip
    sensitivity = claims.assign(variant="reference")
    comparison = baseline_comparison(
        table, table.assign(explainer="input", explanation_robustness=0.0)
    )
    masking = pd.DataFrame({"dataset": "mnist", "arch": ["fc", "fc", "conv"],
                            "inference": ["hmc", "hmc", "vi"], "seed": 0,
                            "verdict": ["flagged", "passed", "not applicable"]})  # fmt: skip
    page = summary_page(claims, "Intro.", SETTINGS, comparison, attacks, sensitivity,
                        masking=masking)  # fmt: skip
    assert "Short answer: yes" in page  # supported on all and on perturbed points
    assert "left up to 50% of the inputs unchanged" in page
    assert "Sensitivity: on perturbed points C2 is supported under reference" in page
    assert "masking checks (masking.csv): 1 of 2 checks flagged, on fc_hmc." in page
    assert "At matched attack strength (C2m" in page
    # supported at equal epsilon, refuted at matched strength: the answer is no
    unmatched = claims.assign(verdict=np.where(claims["claim"] == "C2m", "not supported",
                                               claims["verdict"]))  # fmt: skip
    page = summary_page(unmatched, "Intro.", SETTINGS, comparison, attacks, sensitivity)
    assert "Short answer: no: at matched attack strength" in page
    table.loc[bayes & table["perturbed"], "explanation_robustness"] = 0.2
    claims = claims_table(claims_breakdown(table, SETTINGS))
    page = summary_page(claims, "Intro.", SETTINGS, comparison, attacks, None)
    assert "Short answer: no: the high robustness rests on inputs the attack left unchanged" in page


def test_the_page_answers_the_explanation_attacks_question_from_their_own_slice():
    table = synthetic_table(seeds=(0,), points=30)
    topk = table.assign(attack="topk")
    topk.loc[topk["inference"] == "det", "explanation_robustness"] = 0.1  # det: moved a lot
    breakdown = claims_breakdown(pd.concat([table, topk], ignore_index=True), SETTINGS)
    claims = claims_table(breakdown)
    attacks = pd.DataFrame({
        "dataset": "mnist", "arch": "fc", "inference": ["det", "hmc", "hmc", "det"],
        "seed": 0, "attack": ["topk", "topk", "topk", "fgsm"], "n_samples": [1, 10, 100, 1],
        "explanation_objective_start": [0.3, 0.3, 0.3, np.nan],
        "explanation_objective_end": [0.1, 0.25, 0.2, np.nan], "success_rate": 0.0,
        "unchanged_fraction": 0.0, "zero_gradient_fraction": 0.0, "saturated_fraction": 0.0,
    })  # fmt: skip
    comparison = baseline_comparison(table, table.assign(explainer="input"))
    page = summary_page(claims, "Intro.", SETTINGS, comparison, attacks, breakdown=breakdown)
    assert "- topk, fc_det: 0.300 -> 0.100, prediction kept on 100% of the points" in page
    assert "- topk, fc_hmc: 0.300 -> 0.200" in page  # at its largest n only
    explanation = breakdown.query("attack == 'explanation' and dataset == 'all' and "
                                  "subset == 'all' and claim == 'C2m'").iloc[0]  # fmt: skip
    assert explanation["verdict"] == "supported"
    assert "more stable than the deterministic net's? C2m:" in page
    # without explanation attacks there is no such section
    page = summary_page(claims, "Intro.", SETTINGS, comparison,
                        attacks[attacks["attack"] == "fgsm"], breakdown=breakdown)  # fmt: skip
    assert "Attacks on the explanation" not in page


def test_claims_resting_on_a_failed_posterior_are_flagged_and_the_page_says_so():
    table = synthetic_table(seeds=(0,), points=20)
    gates = pd.DataFrame({"dataset": "mnist", "arch": ["fc", "conv"], "inference": ["hmc", "vi"],
                          "seed": 0, "passed": [False, True],
                          "reason": ["41% of test points have function-space R-hat > 1.1",
                                     ""]})  # fmt: skip
    claims = claims_table(claims_breakdown(table, SETTINGS, gates)).set_index("claim")
    # C2, C2m, C3, C5a, C5m use the HMC net; C4 compares VI with HMC; C1 and C5b use det
    assert claims["gate"].to_dict() == {
        "C1": "not applicable", "C2": "failed", "C2m": "failed", "C2b": "not applicable",
        "C3": "failed", "C4": "failed", "C5a": "failed", "C5b": "not applicable",
        "C5m": "failed", "C6": "not applicable", "C7": "not applicable",
    }  # fmt: skip
    assert claims.loc["C2", "gate_note"] == ("mnist fc_hmc seed 0: 41% of test points have "
                                             "function-space R-hat > 1.1")  # fmt: skip
    comparison = baseline_comparison(table, table.assign(explainer="input"))
    attacks = pd.DataFrame({"inference": ["det", "hmc"], "unchanged_fraction": [0.0, 0.5],
                            "zero_gradient_fraction": [0.0, 0.5],
                            "saturated_fraction": [0.1, 1.0]})  # fmt: skip
    page = summary_page(claims.reset_index(), "Intro.", SETTINGS, comparison, attacks)
    caution = "**Caution:** C2, C2m, C3, C4, C5a, C5m rest on posteriors that failed their gates"
    assert caution in page
    assert "mnist fc_hmc seed 0: 41% of test points" in page
    # the same table with a passing HMC posterior: nothing flagged
    gates["passed"] = True
    claims = claims_table(claims_breakdown(table, SETTINGS, gates))
    assert set(claims["gate"]) == {"passed", "not applicable"}
    page = summary_page(claims, "Intro.", SETTINGS, comparison, attacks)
    assert "Caution" not in page and "passed its gates" in page


def offset_table(points=200, rho_inside=0.0, seed=0):
    """Two datasets x two attacks x det/HMC at the output layer (and HMC's middle layer, and
    a VI net), built so that pooled statistics are fooled: inside every (dataset, attack,
    model) group LRP and softmax robustness are independent, but the groups' means move
    together; every layer's robustness has the same spread (IQR ~0.03), and one VI layer is
    shifted, not broadened."""
    rng = np.random.default_rng(seed)
    rows = []
    offsets = {("mnist", "fgsm"): 0.0, ("mnist", "pgd"): 0.3, ("fashion", "fgsm"): 0.15,
               ("fashion", "pgd"): 0.45}  # fmt: skip
    for (dataset, attack), offset in offsets.items():
        for arch, inference in (("fc", "det"), ("fc", "hmc"), ("fc", "vi")):
            for layer in LEARNABLE_LAYERS[arch]:
                for n in [1] if inference == "det" else [10, 100]:
                    for k in (10, 100):
                        softmax = offset + rng.uniform(0, 0.1, points)
                        noise = rng.uniform(0, 0.1, points)
                        lrp = 0.3 + offset + rho_inside * (softmax - offset) + noise * 0.6
                        if inference == "vi" and layer == 3:
                            lrp = lrp + 0.2  # a shift of one layer, not a broader spread
                        rows.append(pd.DataFrame({
                            "dataset": dataset, "arch": arch, "inference": inference,
                            "seed": 0, "attack": attack, "epsilon": 0.25, "n_samples": n,
                            "layer": layer, "k": k, "metric": f"top{k}_overlap",
                            "point": np.arange(points), "label": 0,
                            "pred_clean": 0, "pred_adv": 0, "attack_success": False,
                            "softmax_robustness": softmax, "explanation_robustness": lrp,
                            "explainer": "lrp",
                            "perturbed": True,
                        }))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


def test_group_offsets_do_not_make_a_correlation_or_a_spread():
    table = offset_table()
    # what the old pooled statistics saw: a strong correlation over the pooled rows
    pooled = table[(table["layer"] == 5) & (table["k"] == 100)]
    assert (
        pooled["explanation_robustness"].corr(pooled["softmax_robustness"], method="spearman") > 0.8
    )
    claims = evaluate_claims(table, SETTINGS).set_index("claim")
    # inside the groups there is none: C5a cannot be supported, C5b holds
    assert abs(claims.loc["C5a", "value"]) < 0.1 and claims.loc["C5a", "verdict"] != "supported"
    assert abs(claims.loc["C5b", "value"]) < 0.1
    # a shifted layer is not a broader one: C4 ~ 0, not supported
    assert abs(claims.loc["C4", "value"]) < 0.02 and claims.loc["C4", "verdict"] != "supported"


def test_p_values_use_one_value_per_point_not_repeated_rows():
    table = synthetic_table(seeds=(0,), points=30)
    rng = np.random.default_rng(0)
    # make the comparison close, so that the p-value is not at its floor
    bayes = table["inference"] != "det"
    table.loc[bayes, "explanation_robustness"] = 0.3 + rng.uniform(-0.2, 0.2, bayes.sum())
    first = evaluate_claims(table, SETTINGS).set_index("claim")
    # the same rows again under a second attack name: no new independent evidence
    doubled = pd.concat([table, table.assign(attack="pgd")], ignore_index=True)
    second = evaluate_claims(doubled, SETTINGS).set_index("claim")
    for claim in ("C2", "C3"):
        assert 1e-6 < first.loc[claim, "p_value"] < 1
        assert second.loc[claim, "p_value"] == pytest.approx(first.loc[claim, "p_value"])
    # C2's p-value by hand: Wilcoxon on each point's mean Bayesian-minus-det difference
    from scipy.stats import wilcoxon

    out = table[table["layer"] == table["arch"].map(output_layer)]
    out = out[out["k"] == 10]
    det = out[out["inference"] == "det"].set_index(["arch", "point"])["explanation_robustness"]
    top = out[(out["inference"] != "det") & (out["n_samples"] == 100)]
    difference = (
        top["explanation_robustness"].to_numpy()
        - det.loc[list(zip(top["arch"], top["point"], strict=True))].to_numpy()
    )
    per_point = pd.Series(difference).groupby(top["point"].to_numpy()).mean()
    expected = wilcoxon(per_point, alternative="greater").pvalue
    assert first.loc["C2", "p_value"] == pytest.approx(expected)


def test_c5_is_reported_at_every_n():
    breakdown = claims_breakdown(synthetic_table(seeds=(0,), bayes_follows_softmax=True),
                                 SETTINGS)  # fmt: skip
    by_n = breakdown[breakdown["n_samples"].notna()]
    assert set(by_n["claim"]) == {"C5a"}
    assert sorted(by_n.query("dataset == 'all' and subset == 'all'")["n_samples"]) == [10, 50, 100]
    table = claims_table(breakdown)
    assert table["claim"].tolist() == ["C1", "C2", "C2m", "C2b", "C3", "C4", "C5a", "C5b",
                                       "C5m", "C6", "C7"]  # fmt: skip


def test_the_summary_page_prints_no_nan_for_a_missing_note(tmp_path):
    table = synthetic_table(seeds=(0,), points=20)
    claims = claims_table(claims_breakdown(table, SETTINGS))
    claims.to_csv(tmp_path / "claims.csv", index=False)
    claims = pd.read_csv(tmp_path / "claims.csv")  # empty notes come back as NaN
    comparison = baseline_comparison(table, table.assign(explainer="input"))
    page = summary_page(claims, "Intro.", SETTINGS, comparison)
    assert "(nan)" not in page and "**supported**" in page


def test_the_family_table_takes_each_family_at_its_largest_n_with_its_cost():
    from bayeslrp.summary_text import family_lines, family_table

    models = [("fc", "det", 1, 0.2), ("fc", "hmc", 10, 0.5), ("fc", "hmc", 100, 0.7),
              ("fc", "ensemble", 10, 0.9)]  # fmt: skip
    comparison = pd.DataFrame([
        {"dataset": "mnist", "arch": a, "inference": i, "n_samples": n, "attack": "pgd",
         "metric": "top10_overlap", "lrp": r, "lrp_perturbed": r / 2}
        for a, i, n, r in models
    ])  # fmt: skip
    accuracy = pd.DataFrame([
        {"dataset": "mnist", "arch": a, "inference": i, "seed": s, "n_samples": n,
         "test_accuracy": 0.8 + 0.1 * s, "ece": 0.05}
        for a, i, n, _ in models for s in (0, 1)
    ])  # fmt: skip
    table = family_table(comparison, accuracy)
    assert table["inference"].tolist() == ["ensemble", "hmc", "det"]  # perturbed, descending
    assert table.set_index("inference").loc["hmc", "n_samples"] == 100
    assert table["test_accuracy"].tolist() == pytest.approx([0.85] * 3)  # mean over seeds
    text = "\n".join(family_lines(table))
    assert "fc hmc n=100" in text and "fc det\n" in text and "n=10\n" in text


def test_the_breakdown_does_not_depend_on_its_worker_count():
    table = synthetic_table(seeds=(0,), points=30)
    table = pd.concat([table, table.assign(attack="pgd")], ignore_index=True)
    one = claims_breakdown(table, SETTINGS)
    two = claims_breakdown(table, SETTINGS, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_claims_by_explainer_recompute_every_claim_with_each_explainers_heatmaps():
    """LRP's block is claims.csv; an explainer whose heatmaps equal LRP's gets the same
    claims; one whose Bayesian heatmaps are no more robust than det's loses C2; the
    det-only rival and the explanation attacks stay out."""
    lrp = synthetic_table(seeds=(0,), points=40)
    same = lrp.assign(explainer="gradient_x_input")
    worse = lrp.assign(explainer="lrp_zplus")
    bayes = worse["inference"] != "det"
    worse.loc[bayes, "explanation_robustness"] = 0.3
    rival = lrp[lrp["inference"] == "det"].assign(explainer="beta_lrp")
    aimed = lrp.assign(attack="topk")  # an attack on the explanation: not in the claims
    # in any row order: LRP's block first, then the others by name
    table = claims_by_explainer(pd.concat([worse, same, rival, lrp, aimed]), SETTINGS)
    assert list(table.columns) == ["explainer", *CLAIM_COLUMNS]
    assert list(dict.fromkeys(table["explainer"])) == ["lrp", "gradient_x_input", "lrp_zplus"]
    block = {e: part.drop(columns="explainer").reset_index(drop=True)
             for e, part in table.groupby("explainer", sort=False)}  # fmt: skip
    expected = claims_table(claims_breakdown(pd.concat([lrp, rival]), SETTINGS))
    pd.testing.assert_frame_equal(block["lrp"][["claim", "value", "ci_low", "verdict"]],
                                  expected[["claim", "value", "ci_low", "verdict"]])  # fmt: skip
    pd.testing.assert_frame_equal(block["gradient_x_input"], block["lrp"])
    verdicts = block["lrp_zplus"].set_index("claim")["verdict"]
    assert verdicts["C2"] == "not supported" and block["lrp"].set_index("claim").loc[
        "C2", "verdict"] == "supported"
    # the blocks bootstrapped in two processes: the same table
    parallel = claims_by_explainer(pd.concat([worse, same, rival, lrp, aimed]), SETTINGS,
                                   workers=2)  # fmt: skip
    pd.testing.assert_frame_equal(parallel, table)


def test_grouped_spearman_is_the_mean_of_per_group_spearman():
    # The one-pass form (claims' correlations) against the definition: scipy's Spearman
    # inside each group, NaN rows dropped, groups with < 3 rows or a constant column left
    # out of the mean. Ties, NaNs, tiny and constant groups on purpose.
    from scipy.stats import spearmanr

    from bayeslrp.claims import _grouped_spearman

    rng = np.random.default_rng(7)
    for trial in range(200):
        n = int(rng.integers(1, 60))
        group = rng.integers(0, int(rng.integers(1, 8)), n)
        a = rng.integers(0, 4, n).astype(float)  # heavy ties
        b = rng.normal(size=n).round(int(rng.integers(0, 3)))
        a[rng.random(n) < 0.1] = np.nan
        b[rng.random(n) < 0.1] = np.nan
        if trial % 7 == 0:
            b[group == group[0]] = 1.0  # one constant group
        expected = []
        for g in np.unique(group):
            x, y = a[group == g], b[group == g]
            keep = ~(np.isnan(x) | np.isnan(y))
            x, y = x[keep], y[keep]
            if len(x) >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0:
                expected.append(spearmanr(x, y).statistic)
        got = _grouped_spearman({"a": a, "b": b, "group": group}, "a", "b")
        if expected:
            assert got == pytest.approx(np.mean(expected), abs=1e-12), trial
        else:
            assert np.isnan(got), trial


def test_mean_paired_difference_is_the_mean_of_group_means():
    from bayeslrp.claims import _mean_paired_difference, _nanmean, _per_group

    rng = np.random.default_rng(3)
    for trial in range(100):
        n = int(rng.integers(1, 40))
        rows = {"group": rng.integers(0, 6, n), "explanation_robustness": rng.normal(size=n)}
        rows["explanation_robustness"][rng.random(n) < 0.3] = np.nan
        expected = _per_group(rows, lambda g: _nanmean(g["explanation_robustness"]))
        got = _mean_paired_difference(rows)
        assert got == pytest.approx(expected, abs=1e-12, nan_ok=True), trial


def _matched_reference(group: dict) -> tuple[float, float]:
    """C2m's and C5m's statistics of one group from their definition: strata between the
    distinct quintiles of softmax robustness (np.quantile), the strata holding Bayesian and
    reference rows both; the Bayesian-weighted mean difference, and the difference of
    scipy's Spearman rho of the two sides on those strata."""
    from scipy.stats import spearmanr

    keep = ~(np.isnan(group["explanation_robustness"]) | np.isnan(group["softmax_robustness"]))
    lrp, soft = group["explanation_robustness"][keep], group["softmax_robustness"][keep]
    ref = group["reference"][keep]
    if not len(lrp):
        return np.nan, np.nan
    edges = np.unique(np.quantile(soft, np.linspace(0, 1, 6)))
    stratum = np.searchsorted(edges[1:-1], soft, side="right")
    shared = np.intersect1d(stratum[ref], stratum[~ref])
    total, weight = 0.0, 0
    for s in shared:
        bayes, det = lrp[(stratum == s) & ~ref], lrp[(stratum == s) & ref]
        total, weight = total + len(bayes) * (bayes.mean() - det.mean()), weight + len(bayes)
    inside = np.isin(stratum, shared)

    def rho(side):
        a, b = lrp[inside & side], soft[inside & side]
        return spearmanr(a, b).statistic if len(a) >= 3 and np.ptp(a) and np.ptp(b) else np.nan

    return (total / weight if weight else np.nan), rho(~ref) - rho(ref)


def test_matched_statistics_are_their_per_group_definitions():
    # The one-pass strata (claims C2m, C5m) against the definition, group by group: ties
    # (strata merge), NaNs, groups without a shared stratum or without reference rows.
    from bayeslrp.claims import _matched_difference, _matched_rho_difference

    rng = np.random.default_rng(11)
    for trial in range(300):
        n = int(rng.integers(1, 80))
        rows = {
            "group": rng.integers(0, int(rng.integers(1, 5)), n) * 3,  # codes need not be 0..G-1
            "explanation_robustness": rng.random(n).round(1),
            "softmax_robustness": rng.random(n).round(int(rng.integers(1, 3))),
            "reference": rng.random(n) < rng.uniform(0, 1),
        }
        rows["softmax_robustness"][rng.random(n) < 0.1] = np.nan
        rows["explanation_robustness"][rng.random(n) < 0.1] = np.nan
        expected = np.array([_matched_reference({k: v[rows["group"] == g] for k, v in rows.items()})
                             for g in np.unique(rows["group"])])  # fmt: skip
        for got, column in ((_matched_difference(rows), 0), (_matched_rho_difference(rows), 1)):
            values = expected[:, column][~np.isnan(expected[:, column])]
            want = values.mean() if len(values) else np.nan
            assert got == pytest.approx(want, abs=1e-12, nan_ok=True), (trial, column)
