"""Each rule declares the package modules its script runs as inputs (so that editing a module
reruns exactly the rules that use it); this test derives the list from the imports and
fails when a declaration misses one."""

import ast
import re

from conftest import ROOT

from bayeslrp.names import FITTED

PACKAGE = ROOT / "src" / "bayeslrp"
RULE = re.compile(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", flags=re.MULTILINE | re.DOTALL)
DECLARED = re.compile(r"package_modules\((.*?)\)", flags=re.DOTALL)
SCRIPT = re.compile(r'script:\s*"\.\./workflow_scripts/(\w+)\.py"')


def imported_modules(path):
    """bayeslrp modules that the file at `path` imports directly."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "bayeslrp":
                names = [a.name for a in node.names]
                found |= {n for n in names if (PACKAGE / f"{n}.py").exists()} or {"__init__"}
            elif node.module.startswith("bayeslrp."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("bayeslrp.")}
    return found


def closure(modules):
    """`modules` and everything they import, transitively."""
    seen, todo = set(), list(modules)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += imported_modules(PACKAGE / f"{name}.py")
    return seen


def quoted(text):
    return set(re.findall(r'"(\w+)"', " ".join(DECLARED.findall(text))))


def family_rules(name, script):
    """fit_posterior's code input is settings.smk's family_modules: one check per family
    of names.FITTED, whose module the script imports by name (inference.fit_function)."""
    settings = (ROOT / "rules" / "common" / "settings.smk").read_text()
    shared = quoted(settings.split("def family_modules")[1].split("\ndef ")[0])
    for family, spec in FITTED.items():
        yield f"{name}[{family}]", script, {"runtime", spec.module} | shared, {spec.module}


def rules():
    """(rule, script, modules declared, modules the script loads by name)."""
    for smk in sorted((ROOT / "rules").glob("*.smk")):
        for name, body in RULE.findall(smk.read_text()):
            script = SCRIPT.search(body)
            if not script:
                continue
            path = ROOT / "workflow_scripts" / f"{script.group(1)}.py"
            if "code=family_modules" in body:
                yield from family_rules(name, path)
            else:
                yield name, path, {"runtime"} | quoted(body), set()


# Declared only where used: the relevance rule scores samples with `explanation_metrics`
# only under metrics.bayes_robustness: mean_of_robustness (common.smk's
# sample_metric_modules), so that by default a metric edit reruns the tables, not LRP.
CONDITIONAL = {"compute_relevance": {"explanation_metrics", "paired_heatmaps"}}


def test_every_rule_declares_the_modules_its_script_runs():
    checked, missing = 0, {}
    for name, script, declared, by_name in rules():
        checked += 1
        # package_modules adds what the declared modules import; __init__ only re-exports
        needed = closure(imported_modules(script) | by_name) - {"__init__"}
        declared |= CONDITIONAL.get(name, set())
        known = closure(declared)
        if needed - known:
            missing[name] = sorted(needed - known)
    assert checked >= 20, checked  # the parser found the rules
    assert not missing, f"rules whose package_modules(...) miss modules: {missing}"
