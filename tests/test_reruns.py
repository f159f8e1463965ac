"""After a complete smoke run, a changed setting reruns exactly what depends on it."""

import os
import re

import pytest
import yaml
from conftest import ROOT, snakemake

from bayeslrp.names import ANALYSIS_SECTIONS

pytestmark = pytest.mark.workflow
# Rules that collect every model's results: any change upstream reruns them.
AGGREGATES = {"build_tables", "describe_settings", "summarise_robustness", "gate_posteriors",
              "evaluate_claims",
              "write_summary", "plot_heatmaps", "plot_model_robustness", "plot_diagnostics",
              "plot_convergence", "plot_claims", "plot_heatmap_uncertainty",
              "plot_epsilon_sweep", "plot_explanation_attack", "flag_masking",
              "summarise_geometry", "summarise_stability", "summarise_faithfulness",
              "all"}  # fmt: skip


def planned(workdir, config_path):
    """(rule, outputs) of every job `snakemake -n` would run."""
    run = snakemake(workdir, "-n", config=config_path)
    assert run.returncode == 0, run.stderr[-3000:]
    jobs = re.findall(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    output: (.*)$",
                      run.stdout, flags=re.MULTILINE)  # fmt: skip
    return [(rule, outputs) for rule, outputs in jobs]


def changed_config(tmp_path, edit):
    config = yaml.safe_load((ROOT / "configs" / "smoke.yaml").read_text())
    edit(config)
    path = tmp_path / "changed.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_pgd_steps_rerun_only_pgd_and_what_follows(smoke_run, tmp_path):
    jobs = planned(
        smoke_run, changed_config(tmp_path, lambda c: c["attacks"]["pgd"].update(steps=4))
    )
    rules = {rule for rule, _ in jobs}
    assert rules - AGGREGATES == {"generate_attack", "compute_relevance",
                                  "compute_robustness"}  # fmt: skip
    for rule, outputs in jobs:
        if rule == "generate_attack":
            assert "/pgd" in outputs and "fgsm" not in outputs, outputs
    # one relevance job per model explains every attack (a file each): its start-up costs
    # more than most models' heatmaps of one attack
    relevance = [outputs for rule, outputs in jobs if rule == "compute_relevance"]
    assert len(relevance) == len({o.split("/seed")[0] for o in relevance})
    assert all("/pgd" in o and "/fgsm" in o for o in relevance)


def test_lrp_epsilon_reruns_only_relevance_and_what_follows(smoke_run, tmp_path):
    def edit(config):
        config["explainers"].setdefault("lrp", {})["epsilon"] = 0.05

    jobs = planned(smoke_run, changed_config(tmp_path, edit))
    rules = {rule for rule, _ in jobs} - AGGREGATES
    # the attack on the explanation attacks LRP at its epsilon: it reruns, no other attack;
    # the geometry, stability and faithfulness probes measure the LRP heatmap too
    assert rules == {"explain_clean", "compute_relevance", "compute_robustness",
                     "generate_attack", "probe_geometry", "probe_stability",
                     "probe_faithfulness"}  # fmt: skip
    for rule, outputs in jobs:
        if rule == "generate_attack":
            assert "/topk" in outputs, outputs


def test_a_det_only_explainer_setting_reruns_only_the_det_nets_heatmaps(smoke_run, tmp_path):
    # one relevance job per model and attack holds every explainer of the model: a change
    # to beta-LRP (run for det nets only) re-explains the det nets, no other model, and
    # attacks nothing; the stability and faithfulness probes of the det nets measure it too
    def edit(config):
        config["explainers"].setdefault("beta_lrp", {})["beta"] = 3.0

    jobs = planned(smoke_run, changed_config(tmp_path, edit))
    assert {rule for rule, _ in jobs} - AGGREGATES == {
        "explain_clean", "compute_relevance", "compute_robustness", "probe_stability",
        "probe_faithfulness"}  # fmt: skip
    for rule, outputs in jobs:
        if rule not in AGGREGATES:
            assert "_det/" in outputs, (rule, outputs)


@pytest.mark.parametrize(
    "edit",
    [lambda c: c["metrics"]["topk_overlap"].update(k=[10, 20, 30]),
     lambda c: c["metrics"].update(names=["topk_overlap"]),
     lambda c: c["metrics"].update(spearman={"mode": "absolute"})],
    ids=["new_k", "drop_a_metric", "metric_setting"],
)  # fmt: skip
def test_a_metric_change_rescores_without_any_backward_pass(smoke_run, tmp_path, edit):
    # the heatmaps, the attacks' masking diagnostics and the baselines' heatmaps are cached:
    # only the scoring and the tables rerun
    jobs = planned(smoke_run, changed_config(tmp_path, edit))
    assert {rule for rule, _ in jobs} - AGGREGATES == {"compute_robustness"}


@pytest.mark.parametrize("block, probe", [("stability", "probe_stability"),
                                          ("faithfulness", "probe_faithfulness")])
def test_a_probe_setting_reruns_only_that_probe(smoke_run, tmp_path, block, probe):
    jobs = planned(smoke_run, changed_config(tmp_path, lambda c: c[block].update(points=5)))
    assert {rule for rule, _ in jobs} - AGGREGATES == {probe}


def test_editing_the_attack_module_reruns_the_rules_that_declare_it(smoke_run):
    module = ROOT / "src" / "bayeslrp" / "attacks.py"
    before, text = module.stat(), module.read_bytes()
    # A real edit: Snakemake ignores a mere touch when the file's checksum is unchanged.
    module.write_bytes(text + b"\n# an edit\n")
    try:
        jobs = planned(smoke_run, ROOT / "configs" / "smoke.yaml")
    finally:
        module.write_bytes(text)
        os.utime(module, ns=(before.st_atime_ns, before.st_mtime_ns))
    # Adversarial training makes its examples with this module: the adv nets are refitted
    # (and all of theirs follows); no other model is refitted or re-explained.
    refit = [out for rule, out in jobs if rule == "fit_posterior"]
    assert refit and all("_adv/" in out for out in refit), refit
    rules = {rule for rule, out in jobs if "_adv/" not in out}
    # the epsilon sweep attacks through it too, and evaluate_clean's masking diagnostics
    # take the attack's loss gradient
    assert "generate_attack" in rules and rules <= {"generate_attack",
                                                    "evaluate_clean", "compute_relevance",
                                                    "compute_robustness",
                                                    "sweep_epsilon"} | AGGREGATES  # fmt: skip
    assert not rules & {"fit_posterior", "fit_vi", "run_hmc_chain", "explain_clean"}


def test_adding_a_seed_adds_jobs_without_touching_existing_ones(smoke_run, tmp_path):
    jobs = planned(smoke_run, changed_config(tmp_path, lambda c: c.update(seeds=[0, 1])))
    per_model = [(rule, out) for rule, out in jobs if rule not in AGGREGATES]
    assert len(per_model) > 20
    assert all("seed1" in out for _, out in per_model), per_model[:3]


def test_adding_an_hmc_chain_runs_that_chain_alone(smoke_run, tmp_path):
    jobs = planned(smoke_run, changed_config(tmp_path, lambda c: c["hmc"].update(num_chains=3)))
    chains = [out for rule, out in jobs if rule == "run_hmc_chain"]
    # one new chain per HMC posterior (fc_hmc on the smoke config's one dataset); chains 0
    # and 1 are reused
    assert len(chains) == 1 and all("/chain2/" in out for out in chains), chains
    assert {rule for rule, out in jobs if "_hmc/" in out} >= {"merge_hmc_chains"}
    assert not {rule for rule, out in jobs if "_hmc/" not in out} & {"fit_posterior", "fit_vi"}


def test_speed_and_progress_settings_rerun_nothing(smoke_run, tmp_path):
    def edit(config):
        config["explainers"].update(chunk=1)
        config["explainers"].setdefault("lrp", {})["backend"] = "captum"
        config["attacks"]["chunk"] = 3
        config["hmc"]["log_every"] = 1

    jobs = planned(smoke_run, changed_config(tmp_path, edit))
    # only the settings table (it lists every setting) and what shows it
    assert {rule for rule, _ in jobs} <= {"describe_settings", "all"}, jobs


# One setting of every config section a trained net must not read, changed at once.
ANALYSIS_EDITS = {
    "data": lambda c: c["data"].update(n_test_points=10, accuracy_images=500),
    "attacks": lambda c: c["attacks"]["pgd"].update(steps=4),
    "geometry": lambda c: c["geometry"].update(neighbours=10),
    "stability": lambda c: c["stability"].update(points=5),
    "faithfulness": lambda c: c["faithfulness"].update(points=5),
    "explainers": lambda c: c["explainers"].setdefault("lrp", {}).update(epsilon=0.05),
    "metrics": lambda c: c["metrics"].setdefault("topk_overlap", {}).update(mode="split"),
    "claims": lambda c: c["claims"].update(k_correlation=10),
    "sensitivity": lambda c: c["sensitivity"].update(catalogue={"unused": {}}),
}


def test_analysis_settings_retrain_nothing(smoke_run, tmp_path):
    """What lets a sensitivity variant of these sections reuse the main run's nets
    (names.ANALYSIS_SECTIONS); datasets, models and seeds only choose which nets exist."""
    assert set(ANALYSIS_EDITS) | {"datasets", "models", "seeds"} == set(ANALYSIS_SECTIONS)

    def edit(config):
        for change in ANALYSIS_EDITS.values():
            change(config)

    rules = {rule for rule, _ in planned(smoke_run, changed_config(tmp_path, edit))}
    assert "generate_attack" in rules  # the edits took
    trains = {"fit_posterior", "fit_vi", "sample_vi_posterior", "run_hmc_chain",
              "merge_hmc_chains", "judge_hmc_convergence", "judge_sgmcmc_convergence",
              "download_dataset"}  # fmt: skip
    assert not rules & trains, rules & trains
