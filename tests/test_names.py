"""The method names of each axis agree between names.py, the schema, the workflow's
wildcard constraints and the registries; a new method added to one and not the others
fails here."""

import subprocess
import sys

import torch
import yaml
from conftest import ROOT

from bayeslrp import names
from bayeslrp.attacks import REGISTRY, run_attack
from bayeslrp.explainers import REGISTRY as EXPLAINERS
from bayeslrp.explanation_metrics import REGISTRY as METRICS
from bayeslrp.figures import ATTACK_COLOURS
from bayeslrp.models import build_model
from bayeslrp.posterior import Posterior

SCHEMA = yaml.safe_load((ROOT / "schemas" / "config.schema.yaml").read_text())["properties"]


def test_schema_registries_and_names_agree():
    attacks = SCHEMA["attacks"]["properties"]
    assert tuple(attacks["names"]["items"]["enum"]) == names.ATTACKS
    assert tuple(REGISTRY) == names.ATTACKS
    # every attack has its settings block, and a colour in the figures
    assert all(name in attacks for name in names.ATTACKS)
    assert set(names.ATTACKS) <= set(ATTACK_COLOURS)
    assert set(names.CONTROL_ATTACKS) <= set(names.ATTACKS)
    assert tuple(SCHEMA["datasets"]["items"]["enum"]) == names.DATASETS
    models = SCHEMA["models"]["items"]["enum"]
    assert set(models) == {f"{a}_{i}" for a in ("fc", "conv") for i in names.INFERENCES}
    roles = (names.BAYESIAN_INFERENCES, names.AVERAGING_CONTROLS, names.SINGLE_NETWORK_INFERENCES)
    assert sum(len(r) for r in roles) == len(set().union(*roles)) == len(names.INFERENCES)
    assert set(names.FITTED) <= set(names.INFERENCES)
    for family in names.FITTED.values():  # its config blocks exist, its module has a fit
        for entry in family.blocks:  # "block" or "block.key"
            block, _, key = entry.partition(".")
            assert block in SCHEMA, family
            assert not key or key in SCHEMA[block]["properties"], family
        assert (ROOT / "src" / "bayeslrp" / f"{family.module}.py").exists(), family
    explainers = SCHEMA["explainers"]["properties"]
    assert tuple(explainers["names"]["items"]["enum"]) == names.EXPLAINERS
    assert tuple(EXPLAINERS) == names.EXPLAINERS
    assert all(name in explainers for name in names.EXPLAINERS)  # a settings block each
    for name, speed in names.EXPLAINER_SPEED_SETTINGS.items():
        assert set(speed) <= set(explainers[name]["properties"]), name
    metrics = SCHEMA["metrics"]["properties"]
    assert tuple(metrics["names"]["items"]["enum"]) == names.METRICS == tuple(METRICS)
    assert metrics["names"]["contains"]["const"] == names.STUDY_METRIC
    assert all(name in metrics for name in names.METRICS)  # a settings block each


def test_wildcard_constraints_come_from_the_names_module():
    common = (ROOT / "rules" / "common.smk").read_text()
    block = common.split("wildcard_constraints:")[1].split("\n\n")[0]
    for wildcard, source in (("dataset", "DATASETS"), ("attack", "ATTACKS"),
                             ("model", "INFERENCES")):  # fmt: skip
        line = next(line for line in block.splitlines() if line.strip().startswith(wildcard))
        assert f"alternatives({source})" in line, line
    train = (ROOT / "rules" / "train.smk").read_text()
    fit_rule = train.split("rule fit_posterior:")[1].split("\nrule ")[0]
    assert "inference=alternatives(FITTED)" in fit_rule
    assert names.alternatives(("fgsm", "pgd")) == "fgsm|pgd"


def test_the_names_module_does_not_import_torch():
    code = "import sys, bayeslrp.names; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_the_noise_control_stays_in_the_ball_is_seeded_and_takes_no_gradient():
    model = build_model("fc", 8)
    posterior = {k: v.unsqueeze(0) for k, v in model.state_dict().items()}
    x = torch.rand(50, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    x[0] = 0.0  # a blank image: only the positive half of the noise survives the clip
    y = torch.zeros(50, dtype=torch.long)

    def run(seed):
        return run_attack(Posterior(model, posterior), x, y, attack="noise", epsilon=0.1,
                          batch_size=20,
                          generator=torch.Generator().manual_seed(seed), loss="cross_entropy",
                          bayes="expected_gradient", chunk=4)  # fmt: skip

    result = run(10)  # not x's seed: its noise would be x itself
    delta = result["adversarial"] - x
    assert delta.abs().max() <= 0.1 + 1e-7 and result["adversarial"].min() >= 0
    assert result["adversarial"].max() <= 1
    # uniform in [-0.1, 0.1] away from the clip: mean |delta| = 0.05 over 49 x 784 pixels
    # (standard error 0.0289 / sqrt(38416) = 1.5e-4; 5 errors)
    inside = delta[1:][(x[1:] > 0.1) & (x[1:] < 0.9)]
    assert abs(inside.abs().mean().item() - 0.05) < 5 * 0.0289 / inside.numel() ** 0.5
    assert result["moved"].all() and torch.equal(result["start"], x)
    assert not result["zero_gradient_start"].any()
    assert torch.equal(run(10)["adversarial"], result["adversarial"])
    assert not torch.equal(run(11)["adversarial"], result["adversarial"])
