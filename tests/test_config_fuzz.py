"""Property: every config mutated into an invalid one is rejected with a readable message."""

import copy

import pytest
import yaml
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

SCHEMA = str(ROOT / "schemas" / "config.schema.yaml")
BASE = yaml.safe_load((ROOT / "config.yaml").read_text())
validate(BASE, SCHEMA)  # fill in defaults: mutations then reach every key
FREE_TEXT = {("data", "download_dir")}  # any string is valid there
# Override mappings of the sensitivity study: merged into the config and validated per
# variant before the DAG is built (tests/test_config.py), not by the schema itself.
OVERRIDES = (("sensitivity", "scale"), ("sensitivity", "catalogue"))


def leaves(node, path=()):
    """Paths to every dict node and every leaf of the config."""
    if isinstance(node, dict):
        yield ("dict", path)
        for key, value in node.items():
            yield from leaves(value, (*path, key))
    else:
        yield ("leaf", path)


def free_form(path):
    """Inside an override mapping, or the scale mapping itself (which takes any key)."""
    inside = any(path[: len(o)] == o and len(path) > len(o) for o in OVERRIDES)
    return inside or path == ("sensitivity", "scale")


PATHS = [(kind, path) for kind, path in leaves(BASE) if not free_form(path)]


def get(config, path):
    for key in path:
        config = config[key]
    return config


def set_(config, path, value):
    get(config, path[:-1])[path[-1]] = value


@st.composite
def invalid_configs(draw):
    """A config with one change that the schema must reject, and the word naming it."""
    config = copy.deepcopy(BASE)
    kind, path = draw(st.sampled_from(PATHS))
    if kind == "dict":
        key = draw(st.from_regex(r"zz_[a-z]{1,8}", fullmatch=True))
        get(config, path)[key] = draw(st.integers())
        return config, key
    value = get(config, path)
    if isinstance(value, bool):
        set_(config, path, draw(st.text(min_size=1, max_size=5)))
    elif isinstance(value, (int, float)):
        # Below every minimum of the schema (the lowest is -2, the claims' thresholds on
        # differences): a smaller step could leave a threshold of 0 valid (e.g. -0.7).
        set_(config, path, -abs(value) - draw(st.floats(3, 1e6)))
    elif isinstance(value, list):
        set_(config, path, draw(st.text(min_size=1, max_size=5)))
    elif isinstance(value, str) and path not in FREE_TEXT:
        set_(config, path, "not-" + value + draw(st.text(max_size=3)))
    else:  # a value with no invalid counterpart of this kind: add an unknown key instead
        config["zz_unknown"] = 1
        return config, "zz_unknown"
    return config, path[-1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(invalid_configs())
def test_every_invalid_mutation_is_rejected_naming_the_key(case):
    config, name = case
    with pytest.raises(WorkflowError) as err:
        validate(config, SCHEMA)
    message = str(err.value)
    assert "ValidationError" in message
    assert str(name) in message, message[:500]
