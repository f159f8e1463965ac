"""The sensitivity study runs the whole workflow per variant, as modules of one DAG; here on
the tiny config, with one variant that switches every reference-code option on at once."""

import re

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from conftest import snakemake

from bayeslrp import io

pytestmark = pytest.mark.workflow

REFERENCE_LIKE = {
    "hmc": {"protocol": "per_batch", "batch_size": 250, "init": "pyro_default"},
    "attacks": {"bayes": "mean_adversarial", "loss": "logit_margin"},
    "explainers": {"target": "per_sample"},
    "metrics": {"bayes_robustness": "mean_of_robustness", "topk_overlap": {"mode": "split"}},
}


@pytest.fixture(scope="module")
def study(tmp_path_factory, tiny_config):
    config = yaml.safe_load(tiny_config.read_text())
    # the noise control, APGD, Square and transfer ride along: a registered method runs with
    # no rule edited (at budgets that only exercise them)
    config["attacks"]["names"] = ["fgsm", "apgd_dlr", "square", "transfer", "noise"]
    config["attacks"].update(apgd_dlr={"steps": 3}, square={"queries": 10})
    # and so do the gradient x input, integrated gradients, z+ LRP and SmoothGrad explainers
    config["explainers"]["names"] = ["lrp", "gradient_x_input", "integrated_gradients",
                                     "lrp_zplus", "smoothgrad"]  # fmt: skip
    config["explainers"]["integrated_gradients"] = {"steps": 4}
    config["explainers"]["smoothgrad"] = {"samples": 2}
    # The default config's scale is overridden key by key (presets merge, they cannot delete).
    scale = {"datasets": config["datasets"], "seeds": config["seeds"],
             "data": {"n_test_points": 20}, "vi": {"train_size": 2000}}  # fmt: skip
    config["sensitivity"] = {
        "variants": ["reference_like"],  # one variant: each is a whole (tiny) run
        "scale": scale,
        "catalogue": {"paper_text": {}, "reference_like": REFERENCE_LIKE},  # one unused
    }
    workdir = tmp_path_factory.mktemp("sensitivity")
    path = workdir / "study.yaml"  # read again by the tests that change the study
    path.write_text(yaml.safe_dump(config))
    # Everything, then the report: the report's captions of the study must exist (a missing
    # one only fails in the --report step, after the whole run).
    run = snakemake(workdir, "--cores", "2", config=path)
    assert run.returncode == 0, run.stderr[-4000:]
    report = snakemake(workdir, "--report", "results/report.html", config=path)
    assert report.returncode == 0, report.stderr[-4000:]
    return workdir


def test_the_report_builds_with_the_sensitivity_study(study):
    report = study / "results/report.html"
    assert report.stat().st_size > 100_000
    html = report.read_text(errors="replace")
    assert "sensitivity" in html
    # the variant's own tables stay out of its results (the sensitivity table is its view
    # of them); the report keys each result by its path
    own = "results/sensitivity/reference_like/results/tables/claims.csv"
    assert (study / own).exists() and f'"{own}": {{' not in html
    assert '"results/tables/claims.csv": {' in html
    # the tiny config's one dataset, Fashion-MNIST, comes from Debian's package (installed
    # by .ci/run and `make`); the smoke run covers MNIST
    sources = pd.read_csv(study / "results/tables/data_sources.csv").set_index("dataset")
    assert sources.loc["fashion_mnist", "source"] == "local"


def test_the_noise_control_runs_through_the_workflow_and_stays_out_of_the_claims(study):
    robustness = pd.read_csv(study / "results/tables/robustness.csv")
    assert set(robustness["attack"]) == {"fgsm", "apgd_dlr", "square", "transfer", "noise"}
    noise = robustness[robustness["attack"] == "noise"]
    assert noise["perturbed"].all() and noise["explanation_robustness"].notna().any()
    attacks = pd.read_csv(study / "results/tables/attacks.csv").set_index("attack")
    assert (attacks.loc["noise", "zero_gradient_start_fraction"] == 0).all()
    claims = pd.read_csv(study / "results/tables/claims.csv").set_index("claim")
    # C1 counts deterministic rows of real attacks only: not the noise rows
    attacked_det = robustness.query(
        "attack != 'noise' and inference == 'det' and metric == 'top10_overlap' "
        "and explainer == 'lrp'"
    )
    assert claims.loc["C1", "n_rows"] == (~attacked_det["attack_success"]).sum()


def test_apgd_and_square_run_through_the_workflow_with_their_costs(study):
    attacks = pd.read_csv(study / "results/tables/attacks.csv")
    square = attacks[attacks["attack"] == "square"]
    assert len(square) == 3  # fc_det at n = 1, fc_hmc at n = 2 and 10
    assert square["queries_per_point"].between(1, 11).all()
    assert (square["forward_passes_per_point"]
            == square["queries_per_point"] * square["n_samples"]).all()  # fmt: skip
    apgd = attacks[attacks["attack"] == "apgd_dlr"]
    assert len(apgd) == 3 and apgd["queries_per_point"].isna().all()
    assert (apgd["linf_mean"] <= 0.25 + 1e-6).all() and (apgd["linf_mean"] > 0).all()


def test_transfer_shows_every_model_the_det_nets_adversarials(study):
    (root,) = (study / "results/attacks").iterdir()  # the tiny config's one dataset
    det = io.section(io.load_tensors(root / "fc_det/seed0/transfer.pt"), io.samples_key(1))
    for n in (2, 10):
        hmc = io.section(io.load_tensors(root / "fc_hmc/seed0/transfer.pt"), io.samples_key(n))
        torch.testing.assert_close(hmc["adversarial"], det["adversarial"])
    assert det["moved"].any()
    attacks = pd.read_csv(study / "results/tables/attacks.csv").query("attack == 'transfer'")
    assert len(attacks) == 3 and (attacks["linf_mean"] <= 0.25 + 1e-6).all()
    # scored against each model: the det net's success differs from HMC's in general, and
    # the robustness rows carry the transfer's own predictions
    robustness = pd.read_csv(study / "results/tables/robustness.csv")
    assert robustness.query("attack == 'transfer'")["inference"].nunique() == 2


def test_the_masking_checks_cover_every_model_and_n(study):
    flags = pd.read_csv(study / "results/tables/masking.csv")
    assert set(flags["verdict"]) <= {"flagged", "passed", "not applicable"}
    for (inference, n), rows in flags.groupby(["inference", "n_samples"]):
        checks = set(zip(rows["check"], rows["attack"], strict=True))
        expected = {("one_step_beats_iterative", "fgsm"), ("zero_gradient", "fgsm"),
                    ("zero_gradient", "apgd_dlr"), ("black_box_beats_white_box", "square"),
                    ("noise_beats_gradient", "noise")}  # fmt: skip
        if inference == "hmc":  # transfer is black-box for HMC, white-box for its source
            expected.add(("black_box_beats_white_box", "transfer"))
        assert expected <= checks, (inference, n)
    # each success rate is the robustness table's, at that model and n
    robustness = pd.read_csv(study / "results/tables/robustness.csv").query(
        "explainer == 'lrp' and metric == 'top10_overlap'"
    )
    row = flags.query("check == 'black_box_beats_white_box' and attack == 'square'").iloc[0]
    hits = robustness.query(
        "attack == 'square' and inference == @row.inference and n_samples == @row.n_samples"
    )
    hits = hits[hits["layer"] == hits["layer"].max()]
    assert row["value"] == pytest.approx(hits["attack_success"].mean())


def test_gradient_based_explainers_run_beside_lrp(study):
    robustness = pd.read_csv(study / "results/tables/robustness.csv")
    keys = ["dataset", "arch", "inference", "seed", "attack", "n_samples", "layer", "metric",
            "point"]  # fmt: skip
    others = ("gradient_x_input", "integrated_gradients", "lrp_zplus", "smoothgrad")
    lrp, *rest = (robustness[robustness["explainer"] == e].set_index(keys).sort_index()
                  for e in ("lrp", *others))  # fmt: skip
    for other in rest:
        assert len(lrp) == len(other) > 0 and lrp.index.equals(other.index)
        # the same predictions, different explanations
        assert lrp["softmax_robustness"].equals(other["softmax_robustness"])
        assert not lrp["explanation_robustness"].equals(other["explanation_robustness"])
    # the claims count LRP rows only: C1's rows are LRP's det, not-fooled attacked rows
    claims = pd.read_csv(study / "results/tables/claims.csv").set_index("claim")
    det = lrp.reset_index().query(
        "attack != 'noise' and inference == 'det' and metric == 'top10_overlap'"
    )
    assert claims.loc["C1", "n_rows"] == (~det["attack_success"]).sum()
    # the explainer comparison has both, and the gradient x input baseline once
    comparison = pd.read_csv(study / "results/tables/baseline_comparison.csv")
    assert {"lrp", *others, "input", "random"} <= set(comparison.columns)
    summary = pd.read_csv(study / "results/tables/robustness_summary.csv")
    assert set(summary["explainer"]) == {"lrp", *others}
    # every explainer's stability, and a C9d row for each that runs for the Bayesian net
    stability = pd.read_csv(study / "results/tables/stability.csv")
    assert set(stability["explainer"]) == set(summary["explainer"])
    claims = pd.read_csv(study / "results/tables/stability_claims.csv")["claim"]
    assert list(claims) == ["C9", "C9d", *(f"C9d:{e}" for e in others)]
    # the claims recomputed with each explainer's heatmaps, and the page's answer
    by_explainer = pd.read_csv(study / "results/tables/claims_by_explainer.csv")
    assert list(dict.fromkeys(by_explainer["explainer"])) == ["lrp", *others]
    page = (study / "results/report/summary.rst").read_text()
    assert "Is the effect specific to epsilon-LRP?" in page


def test_every_variant_reports_every_claim(study):
    table = pd.read_csv(study / "results/tables/sensitivity.csv")
    # only the listed variant ran, though the catalogue defines two
    assert table["variant"].unique().tolist() == ["reference_like"]
    assert table["claim"].tolist() == ["C1", "C2", "C2m", "C2b", "C3", "C4", "C5a", "C5b",
                                       "C5m", "C6", "C7"]  # fmt: skip
    assert "hmc.protocol=per_batch" in table["changes"].iloc[0]
    assert not (study / "results/sensitivity/paper_text").exists()
    png = study / "results/figures/sensitivity.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_a_variant_is_a_complete_run_with_its_own_settings(study):
    variant = study / "results/sensitivity/reference_like"
    # it trains its own nets (its HMC settings differ), each a job of the one DAG with its
    # own log; the datasets are this run's
    assert (variant / "logs/run_hmc_chain").is_dir()
    assert not (variant / "results/datasets").exists()
    # per_batch: the HMC posterior still holds num_samples draws (tiny config: 10)
    posterior = pd.read_csv(variant / "results/tables/posterior.csv")
    assert len(posterior.query("inference == 'hmc' and statistic == 'invalid_samples'")) == 1
    weights = torch.load(variant / "results/posterior/fashion_mnist/fc_hmc/seed0/weights.pt",
                         weights_only=True)  # fmt: skip
    assert {v.shape[0] for v in weights.values()} == {10}
    # mean_of_robustness: the relevance artifacts carry per-sample scores for n > 1
    robustness = pd.read_csv(variant / "results/tables/robustness.csv")
    labels = set(robustness["metric"])
    assert "spearman" in labels and len(labels) >= 2
    relevance = variant / "results/relevance/fashion_mnist/fc_hmc/seed0"
    for explainer in ("lrp", "gradient_x_input"):
        heat = io.section(torch.load(relevance / "fgsm.pt", weights_only=True),
                          io.relevance_key(explainer, 5, 10))
        means = {key.removeprefix("sample_mean_"): value for key, value in heat.items()
                 if key.startswith("sample_mean_")}  # fmt: skip
        assert means.keys() == labels and {v.shape for v in means.values()} == {(20,)}
        rows = robustness.query(
            "explainer == @explainer and inference == 'hmc' and n_samples == 10 and layer == 5"
            " and attack == 'fgsm' and dataset == 'fashion_mnist'"
        )
        for label, values in means.items():  # the table holds the per-sample means
            table = rows[rows["metric"] == label].sort_values("point")["explanation_robustness"]
            assert np.allclose(table.to_numpy(), values.double().numpy(), equal_nan=True)
    # logit_margin moves every input FGSM attacks, so none of its points is unperturbed
    # (APGD and Square have losses of their own; their best point can be their start)
    assert robustness.query("attack == 'fgsm'")["perturbed"].all()


def test_a_variant_of_an_analysis_option_trains_nothing(study):
    """A variant that only changes how heatmaps are compared (the top-k mode) reuses the
    run's trained nets: the DAG with it added holds its attacks, heatmaps and claims, and
    no fit, no chain, and nothing of the finished run."""
    config = yaml.safe_load((study / "study.yaml").read_text())
    config["sensitivity"]["catalogue"]["topk_split"] = {
        "metrics": {"topk_overlap": {"mode": "split"}}
    }
    config["sensitivity"]["variants"].append("topk_split")
    path = study / "study_with_topk_split.yaml"
    path.write_text(yaml.safe_dump(config))
    plan = snakemake(study, "--dry-run", "--quiet", "rules", config=path)
    assert plan.returncode == 0, plan.stderr[-4000:]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", plan.stdout + plan.stderr, re.MULTILINE))
    jobs = {name for name in counts if name != "total"}
    new = {name.removeprefix("variant_topk_split_") for name in jobs}
    assert {"generate_attack", "compute_relevance", "evaluate_claims"} <= new
    trained = {"fit_posterior", "fit_vi", "sample_vi_posterior", "run_hmc_chain",
               "merge_hmc_chains", "judge_hmc_convergence", "judge_sgmcmc_convergence",
               "download_dataset"}  # fmt: skip
    assert not new & trained
    # and nothing of the finished run but what lists the variants: the sensitivity and
    # settings tables, the summary page, and the targets
    run = {name for name in jobs if not name.startswith("variant_topk_split_")}
    assert run <= {"build_sensitivity", "describe_settings", "write_summary", "tables",
                   "figures", "all"}, run  # fmt: skip
