import math

import pandas as pd
import torch

from bayeslrp.attack_evaluation import attack_summary
from bayeslrp.tables import (
    ROBUSTNESS_COLUMNS,
    posterior_rows,
    robustness_rows,
    settings_comparison,
    topk_rows,
)


def test_attack_summary_on_a_hand_made_attack():
    x = torch.zeros(2, 1, 2, 2)
    x_adv = x.clone()
    x_adv[0, 0, 0, 0] = 0.25  # one pixel moved: L-inf 0.25, L2 0.25
    x_adv[1] = 0.1  # all four moved: L-inf 0.1, L2 0.2
    labels = torch.tensor([0, 1])
    p_clean = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    p_adv = torch.tensor([[0.3, 0.7], [0.2, 0.8]])
    result = {"adversarial": x_adv, "moved": torch.tensor([True, False]),
              "zero_gradient_start": torch.tensor([False, True]),
              "zero_gradient_last": torch.tensor([True, True])}  # fmt: skip
    row = attack_summary({"attack": "fgsm"}, x, result, labels, p_clean, p_adv)
    assert row["success_rate"] == 0.5 and row["n_points"] == 2
    # movement is the attack's own (from its start), not x_adv != x
    assert row["unchanged_fraction"] == 0.5
    assert row["zero_gradient_start_fraction"] == 0.5 and row["zero_gradient_last_fraction"] == 1
    assert abs(row["linf_mean"] - 0.175) < 1e-7 and abs(row["l2_mean"] - 0.225) < 1e-7
    assert row["clean_accuracy"] == 1.0 and row["adversarial_accuracy"] == 0.5
    # point 1: correct, not flipped, flat at the start: stuck; misclassified, it is not
    assert row["zero_gradient_stuck_fraction"] == 0.5
    row = attack_summary({"attack": "fgsm"}, x, result, torch.tensor([0, 0]), p_clean, p_adv)
    assert row["zero_gradient_stuck_fraction"] == 0.0


def test_robustness_rows_have_every_point_and_metric_in_long_format():
    p = torch.tensor([[0.6, 0.4], [0.1, 0.9]])
    keys = {"dataset": "mnist", "arch": "fc", "inference": "det", "seed": 0, "attack": "fgsm",
            "epsilon": 0.25, "n_samples": 1, "explainer": "lrp", "layer": 5}  # fmt: skip
    moved = torch.tensor([True, False])
    scores = {"top1_overlap": torch.tensor([0.25, 0.5]), "spearman": torch.tensor([0.75, -1.0])}
    rows = robustness_rows(keys, torch.tensor([0, 1]), p, p.flip(1), scores, moved)
    assert list(rows.columns) == ROBUSTNESS_COLUMNS and len(rows) == 4
    assert rows["metric"].tolist() == ["top1_overlap"] * 2 + ["spearman"] * 2
    assert rows["explanation_robustness"].tolist() == [0.25, 0.5, 0.75, -1.0]
    assert rows["attack_success"].all() and rows["point"].tolist() == [0, 1, 0, 1]
    assert rows["perturbed"].tolist() == [True, False, True, False]


def test_topk_rows_keep_the_study_metric_at_the_given_ks_in_their_order():
    table = pd.DataFrame({"metric": ["spearman", "top10_overlap", "top30_overlap",
                                     "top100_overlap"], "value": [1, 2, 3, 4]})  # fmt: skip
    rows = topk_rows(table, [30, 10])
    assert rows["k"].tolist() == [10, 30] and rows["value"].tolist() == [2, 3]
    assert list(rows["metric"].cat.categories) == ["top30_overlap", "top10_overlap"]


def test_posterior_rows_are_long_format():
    rows = posterior_rows({"arch": "fc"}, {"statistics": {"elbo_final": -3.0},
                                           "layers": {"1": {"std_mean": 0.1}}})  # fmt: skip
    assert rows[["statistic", "value"]].values.tolist() == [["elbo_final", -3.0],
                                                             ["std_mean", 0.1]]  # fmt: skip
    assert pd.isna(rows.loc[0, "layer"]) and rows.loc[1, "layer"] == 1


def test_settings_comparison_flags_what_differs_from_the_paper():
    run = {"hidden": {"mnist": 128}, "seeds": [0], "explainers": {"lrp": {"epsilon": 0.1}}}
    paper = {"hidden": {"mnist": 512}, "seeds": [0, 1, 2],
             "explainers": {"lrp": {"epsilon": 0.1}}}
    table = settings_comparison(run, paper).set_index("setting")
    assert table.loc["hidden.mnist", "differs_from_paper"]
    assert table.loc["hidden.mnist", "paper"] == "512"
    assert table.loc["seeds", "differs_from_paper"]
    assert not table.loc["explainers.lrp.epsilon", "differs_from_paper"]


def test_a_query_attack_reports_its_cost_in_forward_passes():
    x = torch.zeros(2, 1, 2, 2)
    result = {"adversarial": x + 0.1, "moved": torch.tensor([True, True]),
              "zero_gradient_start": torch.tensor([False, False]),
              "zero_gradient_last": torch.tensor([False, False]),
              "queries": torch.tensor([3.0, 101.0])}  # fmt: skip
    p = torch.tensor([[0.9, 0.1], [0.2, 0.8]])
    row = attack_summary({"n_samples": 10}, x, result, torch.tensor([0, 1]), p, p)
    assert row["queries_per_point"] == 52.0
    assert row["forward_passes_per_point"] == 520.0
    del result["queries"]
    assert math.isnan(attack_summary({"n_samples": 10}, x, result, torch.tensor([0, 1]), p, p)[
        "forward_passes_per_point"])
