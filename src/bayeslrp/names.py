"""Names of the methods on each science axis, without importing torch.

The schema's enums, the workflow's wildcard constraints and the registries (attacks.py's
REGISTRY, ...) must list the same names; tests/test_names.py checks that they do. Snakemake
reads this module while it builds the DAG, so it must stay torch-free.
"""

from __future__ import annotations

DATASETS = ("mnist", "fashion_mnist")
INFERENCES = ("det", "vi", "hmc")
# Adversarial attacks, and controls: perturbations that do not attack (a reference point
# for the masking checks, left out of the study's claims).
ATTACKS = ("fgsm", "pgd", "noise")
CONTROL_ATTACKS = ("noise",)
EXPLAINERS = ("lrp", "gradient_x_input")
# The study's explainer: its heatmaps drive the claims and the figures; the others are
# compared with it in the tables.
STUDY_EXPLAINER = "lrp"
# Per explainer, the settings of its block that change speed only (never the heatmap):
# kept out of the rules' params so that changing them reruns nothing.
EXPLAINER_SPEED_SETTINGS = {"lrp": ("backend",)}
# Scores of a clean against an adversarial heatmap (explanation_metrics.py). Each gives
# one or more rows per point, labelled in the tables' `metric` column (top-k: one per k).
METRICS = ("topk_overlap", "spearman")
# The study's metric: its rows (at claims.k and claims.k_correlation) drive the claims.
STUDY_METRIC = "topk_overlap"
# Trivial explanations an explainer should beat (baselines.py), scored with the same metric.
BASELINES = ("input", "random", "gradient_x_input")


def topk_label(k: int) -> str:
    """The `metric` label of the top-k overlap at k (e.g. top10_overlap)."""
    return f"top{k}_overlap"


def alternatives(names) -> str:
    """A regular expression matching exactly one of `names` (a wildcard constraint)."""
    return "|".join(names)
