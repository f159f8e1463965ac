"""The posterior gates: convergence in function space and accuracy beside the twin."""

import pandas as pd
import pytest

from bayeslrp.gates import GATE_COLUMNS, claim_gate, posterior_gates

GATES = {"max_unconverged_fraction": 0.05, "accuracy_margin": 0.02, "min_chains": 3}


def posterior_table(chains=3, unconverged=0.02, judged=True):
    """posterior.csv rows of one MNIST fc HMC posterior and one conv VI posterior."""
    rows = [("fc", "hmc", "acceptance_rate", 0.8), ("conv", "vi", "elbo_final", -1.0)]
    if judged:
        rows += [("fc", "hmc", "fs_chains", chains),
                 ("fc", "hmc", "fs_rhat_above_threshold_fraction", unconverged)]  # fmt: skip
    return pd.DataFrame([{"dataset": "mnist", "arch": a, "inference": i, "seed": 0,
                          "statistic": s, "layer": None, "value": v}
                         for a, i, s, v in rows])  # fmt: skip


def accuracy_table(hmc=0.90, twin=0.91, with_twin=True):
    rows = [("fc", "hmc", 10, hmc - 0.05), ("fc", "hmc", 100, hmc), ("fc", "det", 1, 0.96),
            ("conv", "vi", 100, 0.97), ("conv", "det", 1, 0.98)]  # fmt: skip
    if with_twin:
        rows.append(("fc", "twin", 1, twin))
    return pd.DataFrame([{"dataset": "mnist", "arch": a, "inference": i, "seed": 0,
                          "n_samples": n, "test_accuracy": acc}
                         for a, i, n, acc in rows])  # fmt: skip


def gates(**kwargs):
    table_kwargs = {k: kwargs.pop(k) for k in ("hmc", "twin", "with_twin") if k in kwargs}
    result = posterior_gates(posterior_table(**kwargs), accuracy_table(**table_kwargs), GATES)
    assert list(result.columns) == GATE_COLUMNS
    return result.set_index("inference")


def test_a_converged_hmc_posterior_level_with_its_twin_passes():
    table = gates()
    hmc = table.loc["hmc"]
    assert hmc["converged"] == "yes" and hmc["accurate"] == "yes" and hmc["passed"]
    # judged at its largest n against the twin (the det net saw 30x the data)
    assert hmc["accuracy"] == 0.90 and hmc["reference"] == "fc_twin" and hmc["n_samples"] == 100
    vi = table.loc["vi"]  # i.i.d. draws: nothing to converge; judged against conv det
    assert vi["converged"] == "not applicable" and vi["reference"] == "conv_det" and vi["passed"]
    assert set(table.index) == {"hmc", "vi"}  # det and twin are references, not gated


@pytest.mark.parametrize(
    "kwargs, reason",
    [({"unconverged": 0.4}, "40% of test points have function-space R-hat > 1.1"),
     ({"chains": 1}, "1 chain(s), the gate needs 3"),
     ({"judged": False}, "convergence not judged"),
     ({"hmc": 0.85}, "accuracy 0.850 vs fc_twin 0.910"),
     ({"with_twin": False}, "accuracy 0.900 vs fc_det 0.960")],
    ids=["unconverged", "one_chain", "not_judged", "below_twin", "no_twin_so_det"],
)  # fmt: skip
def test_a_posterior_failing_a_gate_says_why(kwargs, reason):
    hmc = gates(**kwargs).loc["hmc"]
    assert not hmc["passed"] and reason in hmc["reason"], hmc["reason"]


def test_the_accuracy_margin_is_inclusive():
    assert gates(hmc=0.89).loc["hmc", "passed"]  # exactly 0.02 below the twin
    assert not gates(hmc=0.889).loc["hmc", "passed"]


def test_a_claim_fails_its_gate_only_through_the_bayesian_posteriors_it_uses():
    table = gates(unconverged=0.4).reset_index()
    rows = pd.DataFrame({"dataset": ["mnist"] * 3, "arch": ["fc", "fc", "conv"],
                         "inference": ["hmc", "det", "vi"], "seed": [0, 0, 0]})  # fmt: skip
    gate, note = claim_gate(rows, table)
    assert gate == "failed" and note.startswith("mnist fc_hmc seed 0: 40%")
    assert claim_gate(rows[rows["inference"] != "hmc"], table) == ("passed", "")
    assert claim_gate(rows[rows["inference"] == "det"], table) == ("not applicable", "")
    assert claim_gate(rows, None) == ("not applicable", "")
    # paired claims (C2b, C6) keep the Bayesian family in `bayes_inference`
    paired = rows.assign(bayes_inference=rows["inference"], inference="hmc - twin n=100")
    assert claim_gate(paired, table)[0] == "failed"
