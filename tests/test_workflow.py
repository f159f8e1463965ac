"""The smoke config run end to end for real, then checked file by file."""

import itertools
import subprocess
import sys

import pandas as pd
import pytest
import torch
from conftest import ROOT, snakemake

from bayeslrp import build_model
from bayeslrp.io import relevance_key, samples_key, section
from bayeslrp.posterior import Posterior
from bayeslrp.tables import ROBUSTNESS_COLUMNS

pytestmark = pytest.mark.workflow

MODELS = {"fc_det": (1, 3, 5), "conv_det": (0, 3, 7), "conv_vi": (0, 3, 7), "fc_hmc": (1, 3, 5),
          "fc_sgmcmc": (1, 3, 5), "fc_laplace": (1, 3, 5), "fc_ensemble": (1, 3, 5),
          "fc_weight_noise": (1, 3, 5), "fc_adv": (1, 3, 5), "fc_twin": (1, 3, 5)}  # fmt: skip
# The ensemble has 2 members: n = 10 is capped at 2.
N_SAMPLES = {"fc_det": [1], "conv_det": [1], "conv_vi": [2, 10], "fc_hmc": [2, 10],
             "fc_sgmcmc": [2, 10], "fc_laplace": [2, 10], "fc_ensemble": [2],
             "fc_weight_noise": [2, 10], "fc_adv": [1], "fc_twin": [1]}  # fmt: skip
RUNS = sum(len(ns) for ns in N_SAMPLES.values())  # (model, n) pairs per dataset
DATASETS = ["mnist"]  # the smoke config's; Fashion-MNIST: the tiny config's tests


def test_every_artifact_follows_the_on_disk_contract(smoke_run):
    results = smoke_run / "results"
    for dataset in DATASETS:
        points = torch.load(results / f"data/{dataset}/test_points.pt", weights_only=True)
        assert points["images"].shape == (20, 1, 28, 28) and points["images"].dtype == torch.float32
        assert points["labels"].bincount().tolist() == [2] * 10
        for model, layers in MODELS.items():
            run = results / f"posterior/{dataset}/{model}/seed0"
            posterior = Posterior.load(str(run / "weights.pt"), model.split("_")[0], 16)
            # HMC holds chains x draws (2 x 10 in the smoke config), SG-MCMC chains x cycles
            # x ceil(10 / 4) (2 x 2 x 3), the others max(n)
            held = {"fc_hmc": 20, "fc_sgmcmc": 12}
            assert len(posterior) == held.get(model, max(N_SAMPLES[model]))
            net = build_model(model.split("_")[0], 16)
            net.load_state_dict(posterior.sample(len(posterior) - 1))
            assert net(points["images"]).shape == (20, 10)
            for n, name, layer in itertools.product(N_SAMPLES[model], ["fgsm", "pgd"], layers):
                attack = section(
                    torch.load(results / f"attacks/{dataset}/{model}/seed0/{name}.pt",
                               weights_only=True),
                    samples_key(n),
                )  # fmt: skip
                delta = (attack["adversarial"] - points["images"]).abs().max()
                assert attack["epsilon"] == 0.25 and delta <= 0.25 + 1e-6
                heat = section(
                    torch.load(results / f"relevance/{dataset}/{model}/seed0/{name}.pt",
                               weights_only=True),
                    relevance_key("lrp", layer, n),
                )  # fmt: skip
                assert heat["clean"].shape == heat["adversarial"].shape == (20, 1, 28, 28)
                assert heat["clean"].abs().sum() > 0


def test_tables_have_the_design_columns_and_every_row(smoke_run):
    robustness = pd.read_csv(smoke_run / "results/tables/robustness.csv")
    assert list(robustness.columns) == ROBUSTNESS_COLUMNS
    # datasets x 4 metrics (top-k overlap at 2 k, Spearman, Kendall) x 20 points x [(model, n)
    # runs x (2 label attacks x 3 layers + the top-k attack on the explanation, output layer
    # only) + the 2 det nets' beta-smoothed LRP (n = 1) under the same 2 x 3 + 1]
    assert len(robustness) == len(DATASETS) * 4 * 20 * (RUNS * (2 * 3 + 1) + 2 * (2 * 3 + 1))
    beta = robustness[robustness["explainer"] == "beta_lrp"]
    assert set(beta["inference"]) == {"det"}
    explanation = robustness[robustness["attack"] == "topk"]
    assert (explanation["layer"] == explanation["arch"].map({"fc": 5, "conv": 7})).all()
    assert set(robustness["metric"]) == {"top10_overlap", "top30_overlap", "spearman", "kendall"}
    # NaN = top-k undefined (fewer than k relevant pixels); the rest are overlaps in [0, 1]
    by_metric = robustness.groupby("metric")["explanation_robustness"]
    for metric, values in by_metric:
        low = -1 if metric in ("spearman", "kendall") else 0
        assert values.dropna().between(low, 1).all() and values.notna().mean() > 0.5, metric
    assert robustness["softmax_robustness"].between(0, 1).all()
    assert set(robustness["layer"]) == {0, 1, 3, 5, 7}
    accuracy = pd.read_csv(smoke_run / "results/tables/accuracy.csv")
    assert len(accuracy) == len(DATASETS) * RUNS
    # Every model, Bayesian ones included, beats chance (0.1) by a wide margin. Not the
    # adversarially trained net: at smoke scale (one epoch on 2,000 images, H = 16, PGD at
    # 0.1) it is near chance on Fashion-MNIST (0.18 here); its training is tested in
    # tests/test_families.py.
    trained = accuracy[accuracy["inference"] != "adv"]
    assert (trained["test_accuracy"] > 0.3).all(), accuracy
    # calibration: better than a uniform guess (NLL log 10, Brier 0.9), ECE a fraction
    assert trained["nll"].lt(2.3).all() and trained["brier"].lt(0.9).all(), accuracy
    assert accuracy["test_accuracy"].between(0, 1).all()
    assert accuracy["ece"].between(0, 1).all()
    attacks = pd.read_csv(smoke_run / "results/tables/attacks.csv")
    assert len(attacks) == len(DATASETS) * RUNS * 3
    topk = attacks[attacks["attack"] == "topk"]
    # the attack on the explanation keeps every prediction and lowers its objective
    assert (topk["success_rate"] == 0).all()
    assert (topk["explanation_objective_end"] <= topk["explanation_objective_start"]).all()
    assert attacks.loc[attacks["attack"] != "topk", "explanation_objective_end"].isna().all()
    assert list(attacks.columns[:7]) == ["dataset", "arch", "inference", "seed", "attack",
                                         "epsilon", "n_samples"]  # fmt: skip
    assert attacks["linf_mean"].le(0.25 + 1e-6).all() and attacks["l2_mean"].gt(0).all()
    assert attacks["success_rate"].between(0, 1).all()
    posterior = pd.read_csv(smoke_run / "results/tables/posterior.csv")
    stats = posterior.groupby("inference")["statistic"].agg(set)
    assert {"elbo_final", "std_mean"} <= stats["vi"]
    assert {"acceptance_rate", "divergences", "ess_min", "rhat_max"} <= stats["hmc"]
    assert {"members", "loss_final", "loss_final_spread"} <= stats["ensemble"]
    assert {"scale", "samples"} <= stats["weight_noise"]
    assert {"prior_precision", "log_marginal_likelihood"} <= stats["laplace"]
    assert {"adversarial_loss_final", "epsilon"} <= stats["adv"]
    assert {"draws_per_chain", "log_posterior_per_datum", "fs_rhat_median"} <= stats["sgmcmc"]
    twin = posterior[(posterior["inference"] == "twin")].set_index("statistic")["value"]
    assert (twin.loc["train_size"] == 500).all()  # the smoke config's hmc.train_size
    # function-space convergence of HMC: defined on most of the 1,000 test images
    fs = posterior[posterior["inference"] == "hmc"].set_index(["dataset", "statistic"])["value"]
    assert (fs.xs("fs_points", level="statistic") > 500).all()
    assert (fs.xs("fs_rhat_median", level="statistic") > 0.9).all()
    assert (fs.xs("fs_chains", level="statistic") == 2).all()  # the smoke config's chains
    # per-point R-hat and the traces the figure shows, for HMC and SG-MCMC (2 chains each)
    for dataset, (model, draws) in itertools.product(DATASETS, [("hmc", 10), ("sgmcmc", 6)]):
        merged = smoke_run / f"results/posterior/{dataset}/fc_{model}/seed0"
        points = pd.read_csv(merged / "function_space.csv")
        assert len(points) == 1000 and points["rhat"].notna().sum() > 500
        trace = pd.read_csv(merged / "trace.csv")
        assert set(trace["chain"]) == {0, 1} and trace["point"].nunique() == 4
        assert len(trace) == 4 * 2 * draws  # points x chains x draws per chain
    sources = pd.read_csv(smoke_run / "results/tables/data_sources.csv").set_index("dataset")
    assert set(sources.index) == set(DATASETS)


def test_the_geometry_probe_covers_every_model_and_n_with_its_claims(smoke_run):
    summary = pd.read_csv(smoke_run / "results/tables/geometry.csv")
    for dataset, (model, ns) in itertools.product(DATASETS, N_SAMPLES.items()):
        arch, inference = model.split("_", 1)
        rows = summary[(summary["dataset"] == dataset) & (summary["arch"] == arch)
                       & (summary["inference"] == inference)]  # fmt: skip
        for quantity in ("gradient", "lrp"):
            part = rows[rows["quantity"] == quantity]
            assert sorted(part["n_samples"]) == sorted({1, *ns}), (dataset, model, quantity)
            assert (part["points"] == 20).all()
    assert summary["median"].between(0, 1).all() and summary["random_median"].between(0, 1).all()
    claims = pd.read_csv(smoke_run / "results/tables/geometry_claims.csv").set_index("claim")
    assert list(claims.index) == ["C8", "C8h", "C8d"] and claims["value"].notna().all()
    assert claims["verdict"].isin(["supported", "not supported", "inconclusive"]).all()
    page = (smoke_run / "results/report/summary.rst").read_text()
    assert "The study's mechanism, measured" in page and "- C8d:" in page


def test_the_stability_probe_covers_every_model_explainer_and_n_with_its_claims(smoke_run):
    summary = pd.read_csv(smoke_run / "results/tables/stability.csv")
    for dataset, (model, ns) in itertools.product(DATASETS, N_SAMPLES.items()):
        arch, inference = model.split("_", 1)
        rows = summary[(summary["dataset"] == dataset) & (summary["arch"] == arch)
                       & (summary["inference"] == inference)]  # fmt: skip
        # beta-smoothed LRP is computed for the det nets only
        explainers = {"lrp", "beta_lrp"} if inference == "det" else {"lrp"}
        assert set(rows["explainer"]) == explainers, (dataset, model)
        assert set(rows["metric"]) == {"max_sensitivity", "avg_sensitivity",
                                       "local_lipschitz", "relative_output_stability"}
        for (_, metric), part in rows.groupby(["explainer", "metric"]):
            assert sorted(part["n_samples"]) == sorted({1, *ns}), (dataset, model, metric)
            # smoke: stability.points; relative output stability is undefined (NaN, not
            # counted) at a point whose every perturbation changes the predicted class
            if metric == "relative_output_stability":
                assert part["points"].between(1, 10).all()
            else:
                assert (part["points"] == 10).all()
    assert (summary["median"] >= 0).all()
    claims = pd.read_csv(smoke_run / "results/tables/stability_claims.csv").set_index("claim")
    assert list(claims.index) == ["C9", "C9d"] and claims["value"].notna().all()
    page = (smoke_run / "results/report/summary.rst").read_text()
    assert "Stability under random noise" in page and "- C9d:" in page


def test_the_faithfulness_probe_covers_every_model_explainer_and_n_with_its_claims(smoke_run):
    summary = pd.read_csv(smoke_run / "results/tables/faithfulness.csv")
    for dataset, (model, ns) in itertools.product(DATASETS, N_SAMPLES.items()):
        arch, inference = model.split("_", 1)
        rows = summary[(summary["dataset"] == dataset) & (summary["arch"] == arch)
                       & (summary["inference"] == inference)]  # fmt: skip
        explainers = {"lrp", "beta_lrp"} if inference == "det" else {"lrp"}
        assert set(rows["explainer"]) == explainers, (dataset, model)
        layers = (1, 3, 5) if arch == "fc" else (0, 3, 7)  # the MPRT cascade's steps
        assert set(rows["metric"]) == {"morf_auc", "random_auc", "faithfulness",
                                       *(f"mprt_layer{layer}" for layer in layers)}  # fmt: skip
        for _, part in rows.groupby(["explainer", "metric"]):
            assert sorted(part["n_samples"]) == sorted(ns) and (part["points"] == 10).all()
    # shares of p(class | x) kept: above 1 where removing pixels raises the class
    areas = summary[summary["metric"].isin(["morf_auc", "random_auc"])]["median"]
    assert (areas >= 0).all() and areas.notna().all()
    claims = pd.read_csv(smoke_run / "results/tables/faithfulness_claims.csv").set_index("claim")
    assert list(claims.index) == ["C10s", "C10", "C10r"] and claims["value"].notna().all()
    # C10r names the explanation it chose, one of those the run explained with
    chosen = claims.loc["C10r", "statistic"]
    assert all(f"{d} {arch}: " in chosen for d in DATASETS for arch in ("fc", "conv")), chosen
    page = (smoke_run / "results/report/summary.rst").read_text()
    assert "Are the explanations faithful to their model?" in page and "- C10r:" in page


def test_the_audit_and_uncertainty_tables_cover_every_model(smoke_run):
    sweep = pd.read_csv(smoke_run / "results/tables/epsilon_sweep.csv")
    assert len(sweep) == 2 * len(DATASETS) * len(MODELS)  # two radii per model
    widest = sweep[sweep["epsilon"] == 1.0]
    assert (widest["masked"] == (widest["adversarial_accuracy"] > 0.01)).all()
    for (_, arch, inference), group in sweep.groupby(["dataset", "arch", "inference"]):
        assert set(group["n_samples"]) == {max(N_SAMPLES[f"{arch}_{inference}"])}
    spread = pd.read_csv(smoke_run / "results/tables/heatmap_uncertainty.csv")
    multi = {m for m, ns in N_SAMPLES.items() if max(ns) > 1}
    assert set(spread["model"]) == multi and set(spread["dataset"]) == set(DATASETS)
    assert (spread.query("measure == 'relative_spread'")["median"] > 0).all()


FIGURES = [
    "fig1_heatmaps", "fig2_topk_overlap", "fig3_inner_layers", "accuracy_attack_success",
    "posterior_diagnostics", "claims", "hmc_rhat", "hmc_traces", "heatmap_uncertainty",
    "epsilon_sweep", "geometry", "stability", "faithfulness",
    *[f"{kind}_{d}_{m}" for kind in ("lrp_robustness", "lrp_vs_softmax") for d in DATASETS
      for m in ("conv_vi", "fc_hmc")],
]  # fmt: skip


def png_size(path):
    """(width, height) in pixels from a PNG's IHDR chunk."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_renders_a_readable_png_and_pdf(smoke_run, name):
    png = smoke_run / f"results/figures/{name}.png"
    width, height = png_size(png)
    # 150 dpi and at least about 5 x 3 inches (2 inches for Fig 2's single row of panels):
    # room for the facets and their labels.
    assert width >= 700 and height >= (280 if name == "fig2_topk_overlap" else 450)
    assert png.stat().st_size > 20_000  # not a blank canvas
    assert (smoke_run / f"results/figures/{name}.pdf").read_bytes()[:4] == b"%PDF"


def test_claims_and_summary_tables(smoke_run):
    tables = smoke_run / "results/tables"
    claims = pd.read_csv(tables / "claims.csv")
    design = ["claim", "statement", "statistic", "value", "ci_low", "ci_high", "n_seeds", "verdict"]
    assert list(claims.columns[: len(design)]) == design
    assert claims["claim"].tolist() == ["C1", "C2", "C2m", "C2b", "C3", "C4", "C5a", "C5b",
                                        "C5m", "C6", "C7"]  # fmt: skip
    # the smoke run pairs fc_hmc with the ensemble (2 members: n = 2) and weight noise
    assert claims.set_index("claim")["value"].notna()["C6"]
    assert claims.set_index("claim")["value"].notna()["C2b"]  # fc_hmc against fc_twin
    assert claims.set_index("claim")["value"].notna()["C7"]  # against the det's beta_lrp
    breakdown = pd.read_csv(tables / "claims_breakdown.csv")
    assert {"topk", "explanation"} <= set(breakdown["attack"])
    summary = (smoke_run / "results/report/summary.rst").read_text()
    assert "Attacks on the explanation" in summary and "C7:" in summary
    assert (smoke_run / "results/figures/explanation_attack.png").stat().st_size > 0
    # the smoke run's 2 chains are fewer than the gate's 3: every claim on HMC is flagged
    gates = pd.read_csv(tables / "posterior_gates.csv").set_index(["dataset", "inference"])
    assert set(gates.index) == {(d, i) for d in DATASETS
                                for i in ("vi", "hmc", "laplace", "sgmcmc")}  # fmt: skip
    assert not gates.xs("hmc", level="inference")["passed"].any()
    assert gates.xs("hmc", level="inference")["reference"].eq("fc_twin").all()
    assert gates.xs("vi", level="inference")["converged"].eq("not applicable").all()
    flagged = claims.set_index("claim")
    assert flagged.loc["C2", "gate"] == "failed" and "2 chain(s)" in flagged.loc["C2", "gate_note"]
    assert flagged.loc["C1", "gate"] == "not applicable"
    assert claims["verdict"].isin(["supported", "not supported", "inconclusive"]).all()
    defined = claims.dropna(subset=["value"])
    assert len(defined) >= 4  # C1 may be undefined if every attack succeeded
    assert ((defined["ci_low"] <= defined["value"] + 1e-9)
            & (defined["value"] <= defined["ci_high"] + 1e-9)).all()  # fmt: skip
    summary = pd.read_csv(tables / "robustness_summary.csv")
    assert set(summary["subset"]) == {"all", "perturbed", "attack_failed"}
    full = summary[(summary["subset"] == "all") & (summary["quantity"] == "explanation_robustness")]
    assert set(full["metric"]) == {"top10_overlap", "top30_overlap", "spearman", "kendall"}
    assert (full["count"] + full["nan_count"] == 20).all()  # one seed x 20 points per group
    assert (full["undefined_fraction"] == full["nan_count"] / 20).all()
    # a group with every top-k undefined has no quantiles; every other group has ordered ones
    assert (full["median"].isna() == (full["count"] == 0)).all()
    full = full[full["count"] > 0]
    assert ((full["q25"] <= full["median"]) & (full["median"] <= full["q75"])).all()


def test_report_holds_every_figure_and_table_and_opens_with_the_verdicts(smoke_run):
    report = (smoke_run / "results/report.html").read_text()
    for name in [f"{f}.png" for f in FIGURES] + [
        "data_sources.csv", "attacks.csv", "posterior.csv", "settings.csv", "claims.csv",
        "claims_breakdown.csv", "robustness_summary.csv", "accuracy.csv",
    ]:  # fmt: skip
        assert name in report, name
    assert "Verdicts on the study" in report and "(nan)" not in report
    # every family side by side, each at its largest n (the ensemble's 2 members)
    summary = (smoke_run / "results/report/summary.rst").read_text()
    assert "Every model family side by side" in summary
    assert all(m in summary for m in ("fc laplace n=10", "fc sgmcmc n=10", "fc ensemble n=2",
                                         "fc adv\n"))
    claims = pd.read_csv(smoke_run / "results/tables/claims.csv")
    for statement in claims["statement"]:
        assert statement.split(";")[0] in report
    settings = pd.read_csv(smoke_run / "results/tables/settings.csv").set_index("setting")
    assert settings.loc["hidden.mnist", "this_run"] == "16"
    assert settings.loc["hidden.mnist", "paper"] == "512"


def test_attack_artifacts_say_how_the_attack_moved(smoke_run):
    attack = section(torch.load(smoke_run / "results/attacks/mnist/fc_det/seed0/pgd.pt",
                                weights_only=True), samples_key(1))  # fmt: skip
    assert {"start", "moved", "zero_gradient_start", "zero_gradient_last"} <= set(attack)
    assert attack["moved"].dtype == torch.bool and attack["moved"].shape == (20,)
    attacks = pd.read_csv(smoke_run / "results/tables/attacks.csv")
    assert attacks["zero_gradient_start_fraction"].between(0, 1).all()


def test_second_run_has_nothing_to_do(smoke_run):
    dry = snakemake(smoke_run, "-n")
    assert dry.returncode == 0, dry.stderr
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_lint_and_format_are_clean():
    lint = snakemake(ROOT, "--lint")
    assert lint.returncode == 0 and "Congratulations" in lint.stdout + lint.stderr, lint.stdout
    fmt = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "rules"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert fmt.returncode == 0, fmt.stderr
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "workflow_scripts", "tests"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert ruff.returncode == 0, ruff.stdout
