"""Conda environments per rule family: pinned like requirements.txt, one per rule family."""

import re
import shutil

import pytest
import yaml
from conftest import ROOT, snakemake

REQUIREMENTS = {
    line.split("==")[0].split("[")[0].lower(): line.strip()
    for name in ("requirements.txt", "requirements-nodeps.txt")
    for line in (ROOT / "envs" / name).read_text().splitlines()
    if "==" in line and not line.startswith("#")
}
ENVS = sorted((ROOT / "envs").glob("*.yaml"))
# Third-party imports of each rule family's package modules and scripts, by the pip name.
NEEDS = {"data": {"torch", "torchvision"},
         "train": {"torch", "pyro-ppl", "laplace-torch", "posteriors"},
         "explain": {"torch", "captum", "torchattacks"},
         "results": {"torch", "pandas", "scipy", "matplotlib", "plotnine"}}  # fmt: skip


def pins(env):
    spec = yaml.safe_load(env.read_text())
    pip = next(d["pip"] for d in spec["dependencies"] if isinstance(d, dict))
    return {p.split("==")[0].lower(): p for p in pip}


@pytest.mark.parametrize("env", ENVS, ids=lambda p: p.stem)
def test_env_pins_match_requirements(env):
    for name, pin in pins(env).items():
        assert "==" in pin, f"{env.name}: {pin} is not pinned"
        assert REQUIREMENTS.get(name) == pin, f"{env.name}: {pin} vs requirements.txt"
    assert NEEDS[env.stem] <= set(pins(env)), env.name


def test_every_rule_names_an_existing_family_env():
    for smk in (ROOT / "rules").glob("*.smk"):
        for env in re.findall(r'conda:\s*"\.\./envs/([^"]+)"', smk.read_text()):
            assert (ROOT / "envs" / env).exists(), f"{smk.name} names envs/{env}"
    assert {env.stem for env in ENVS} == set(NEEDS)


@pytest.mark.skipif(shutil.which("conda") is None, reason="conda is not installed here")
def test_conda_deployment_dry_run(tmp_path):
    dry = snakemake(tmp_path, "-n", "--software-deployment-method", "conda")
    assert dry.returncode == 0, dry.stderr[-3000:]
