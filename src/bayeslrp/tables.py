"""Tidy result tables: one row per (model, seed, attack, n_samples, explainer, layer,
metric, point)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from bayeslrp.metrics import softmax_robustness
from bayeslrp.names import STUDY_EXPLAINER, topk_label

# DESIGN.md's columns in long format: one row per explanation metric (`metric`: a label of
# explanation_metrics, e.g. top10_overlap or spearman) with its score in
# `explanation_robustness`, whatever the explainer (lrp, another registered explainer, or a
# trivial baseline); then `perturbed`: whether the attack's gradient steps moved the input
# away from the attack's own starting point (x, or PGD's random start).
ROBUSTNESS_COLUMNS = [
    "dataset", "arch", "inference", "seed", "attack", "epsilon", "n_samples", "explainer",
    "layer", "metric",
    "point", "label", "pred_clean", "pred_adv", "attack_success", "softmax_robustness",
    "explanation_robustness", "perturbed",
]  # fmt: skip


def robustness_rows(
    keys: dict,
    labels: torch.Tensor,
    p_clean: torch.Tensor,
    p_adv: torch.Tensor,
    scores: dict[str, torch.Tensor],
    moved: torch.Tensor,
) -> pd.DataFrame:
    """Rows for one (model, seed, attack, n, explainer, layer): every metric label of
    `scores` ({label: [N]}, explanation_metrics.score) and every test point.

    `keys` holds the columns shared by all rows (dataset, arch, inference, seed, attack,
    epsilon, n_samples, explainer, layer); `moved` [N] marks the points the attack perturbed.
    """
    pred_clean, pred_adv = p_clean.argmax(1), p_adv.argmax(1)
    per_point = {
        "point": torch.arange(len(labels)).numpy(),
        "label": labels.numpy(),
        "pred_clean": pred_clean.numpy(),
        "pred_adv": pred_adv.numpy(),
        "attack_success": (pred_clean != pred_adv).numpy(),
        "softmax_robustness": softmax_robustness(p_clean, p_adv).double().numpy(),
        "perturbed": moved.numpy(),
    }
    frames = [
        pd.DataFrame({**keys, "metric": metric, **per_point,
                      "explanation_robustness": score.double().cpu().numpy()})
        for metric, score in scores.items()
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)[ROBUSTNESS_COLUMNS]


def study_rows(robustness: pd.DataFrame) -> pd.DataFrame:
    """The rows of the study's explainer (LRP): the claims and figures are about it."""
    return robustness[robustness["explainer"] == STUDY_EXPLAINER]


def topk_rows(robustness: pd.DataFrame, ks: list[int]) -> pd.DataFrame:
    """The rows of the study's metric (top-k overlap) at each k of `ks`, with a `k` column
    and `metric` as a categorical in the order of `ks` (the figures' panel order)."""
    labels = {topk_label(k): k for k in ks}
    rows = robustness[robustness["metric"].isin(labels)]
    return rows.assign(
        k=rows["metric"].map(labels),
        metric=pd.Categorical(rows["metric"], categories=list(labels), ordered=True),
    )


def concat_tables(paths: list[str], sort_by: list[str]) -> pd.DataFrame:
    """Concatenate per-model CSVs into one table in a fixed row order."""
    frame = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    return frame.sort_values(sort_by, kind="stable").reset_index(drop=True)


def posterior_rows(keys: dict, summary: dict) -> pd.DataFrame:
    """Long-format diagnostics of one posterior: (statistic, layer, value) rows.

    `summary["statistics"]` holds model-wide numbers (ELBO, acceptance rate, ...);
    `summary["layers"]` per-layer numbers such as the posterior standard deviations.
    """
    rows = [{**keys, "statistic": k, "layer": pd.NA, "value": v}
            for k, v in summary.get("statistics", {}).items()]  # fmt: skip
    rows += [{**keys, "statistic": k, "layer": int(layer), "value": v}
             for layer, stats in summary.get("layers", {}).items()
             for k, v in stats.items()]  # fmt: skip
    return pd.DataFrame(rows)


def flatten_settings(settings: dict, prefix: str = "") -> dict[str, str]:
    """Nested config -> {"a.b.c": "value"}; lists and scalars as their YAML-ish text."""
    flat = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_settings(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


def settings_comparison(run: dict, paper: dict, defaults: dict | None = None) -> pd.DataFrame:
    """Every setting of this run beside the paper's, flagging the ones that differ.

    A preset overrides the default config key by key, as Snakemake merges config files,
    so the paper's settings are `defaults` updated with `paper`.
    """
    ours = flatten_settings(run)
    theirs = {**flatten_settings(defaults or {}), **flatten_settings(paper)}
    rows = [
        {"setting": key, "this_run": ours.get(key, ""), "paper": theirs.get(key, "(default)"),
         "differs_from_paper": key in theirs and ours.get(key) != theirs[key]}
        for key in sorted(ours.keys() | theirs.keys())
    ]  # fmt: skip
    return pd.DataFrame(rows)


SUMMARY_KEYS = [
    "dataset", "arch", "inference", "attack", "n_samples", "explainer", "layer", "metric"
]


def _mean_interval(values: np.ndarray, n_boot: int, confidence: float, rng) -> tuple:
    """Percentile bootstrap interval of the mean, vectorised over resamples."""
    if len(values) == 0:
        return np.nan, np.nan
    means = values[rng.integers(len(values), size=(n_boot, len(values)))].mean(1)
    alpha = 1 - confidence
    return tuple(np.quantile(means, [alpha / 2, 1 - alpha / 2]))


def robustness_summary(
    robustness: pd.DataFrame, n_boot: int = 1000, confidence: float = 0.95, seed: int = 0
) -> pd.DataFrame:
    """Median, quartiles and mean with a bootstrap interval of each robustness score.

    One row per (model, attack, n, explainer, layer, metric, quantity, subset), seeds and
    points pooled; quantity `explanation_robustness` is the metric's score,
    `softmax_robustness` that of the predictions (the same for every metric);
    subset `all` = every point, `perturbed` = points the attack moved, `attack_failed` =
    points whose prediction the attack did not change. NaN scores (a top-k that is
    undefined, see `topk.topk_defined`) are left out, counted and given as a fraction.
    """
    rng = np.random.default_rng(seed)
    subsets = {"all": slice(None), "perturbed": robustness["perturbed"],
               "attack_failed": ~robustness["attack_success"]}  # fmt: skip
    rows = []
    for subset, keep in subsets.items():
        for keys, group in robustness[keep].groupby(SUMMARY_KEYS, sort=True):
            for quantity in ("explanation_robustness", "softmax_robustness"):
                values = group[quantity].to_numpy(dtype=float)
                valid = values[~np.isnan(values)]
                low, high = _mean_interval(valid, n_boot, confidence, rng)
                rows.append({
                    **dict(zip(SUMMARY_KEYS, keys, strict=True)), "quantity": quantity,
                    "subset": subset, "n_seeds": group["seed"].nunique(), "count": len(valid),
                    "nan_count": len(values) - len(valid),
                    # points whose score is undefined (a top-k reaching into zero pixels)
                    "undefined_fraction": (len(values) - len(valid)) / len(values),
                    "median": np.median(valid) if len(valid) else np.nan,
                    "q25": np.quantile(valid, 0.25) if len(valid) else np.nan,
                    "q75": np.quantile(valid, 0.75) if len(valid) else np.nan,
                    "mean": valid.mean() if len(valid) else np.nan,
                    "mean_ci_low": low, "mean_ci_high": high,
                })  # fmt: skip
    return pd.DataFrame(rows)
