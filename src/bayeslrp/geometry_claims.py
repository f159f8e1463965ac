"""Claims C8 about the study's mechanism (geometry.py): does averaging over the posterior
shrink the part of the input gradient (and of the LRP heatmap) normal to the data manifold?

Each statistic is a mean paired difference of normal fractions per test point, computed
within one comparable group (dataset, architecture, inference, seed, quantity), then
averaged over groups. The interval is a percentile bootstrap over test points (a resampled
point brings its rows in every group, so the pairing is kept); the verdict follows
claims.verdict: supported when the whole interval lies below `claims.c8_max` (0 by
default), not supported when it lies wholly at or above it. Like the study's claims, a
row is flagged when a posterior it rests on failed its gates (gates.claim_gate).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayeslrp.claims import CLAIM_COLUMNS, verdict
from bayeslrp.gates import claim_gate
from bayeslrp.names import BAYESIAN_INFERENCES

GROUP = ["dataset", "arch", "inference", "seed", "quantity"]
QUANTITY_TEXT = {"gradient": "input gradient of the predicted logit",
                 "lrp": "epsilon-LRP heatmap (output layer)"}  # fmt: skip


def averaging_differences(frame: pd.DataFrame) -> pd.DataFrame:
    """Per Bayesian posterior and point: normal fraction of the mean over the largest n
    draws minus that of one draw (column `difference`)."""
    rows = frame[frame["inference"].isin(BAYESIAN_INFERENCES)]
    largest = rows.groupby(GROUP)["n_samples"].transform("max")
    one = rows[rows["n_samples"] == 1]
    top = rows[(rows["n_samples"] == largest) & (largest > 1)]
    paired = top.merge(one, on=[*GROUP, "point"], suffixes=("", "_one"))
    return paired.assign(difference=paired["normal_fraction"]
                         - paired["normal_fraction_one"])  # fmt: skip


def det_differences(frame: pd.DataFrame) -> pd.DataFrame:
    """Per Bayesian posterior (largest n) and point: its normal fraction minus that of the
    det net of the same dataset, architecture and seed (column `difference`)."""
    rows = frame[frame["inference"].isin(BAYESIAN_INFERENCES)]
    top = rows[rows["n_samples"] == rows.groupby(GROUP)["n_samples"].transform("max")]
    det = frame[frame["inference"] == "det"]
    keys = ["dataset", "arch", "seed", "quantity", "point"]
    paired = top.merge(det[[*keys, "normal_fraction"]], on=keys, suffixes=("", "_det"))
    return paired.assign(difference=paired["normal_fraction"] - paired["normal_fraction_det"])


def _group_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Mean over groups (rows) of each group's weighted mean over points (columns)."""
    valid = ~np.isnan(values)
    totals = np.where(valid, values, 0.0) @ weights
    counts = valid.astype(float) @ weights
    means = np.where(counts > 0, totals / np.maximum(counts, 1e-300), np.nan)
    return float(np.nanmean(means)) if not np.isnan(means).all() else np.nan


def interval(paired: pd.DataFrame, n_boot: int, confidence: float, rng: np.random.Generator,
             group_columns: list[str] = GROUP) -> tuple[float, float, float]:  # fmt: skip
    """(value, low, high): the mean over groups (`group_columns`) of the mean paired
    difference (column `difference`), and its percentile bootstrap interval resampling
    (dataset, point) units."""
    if paired.empty:
        return np.nan, np.nan, np.nan
    # units numbered in order of first appearance; rows are (group, unit) cells
    unit = paired.groupby(["dataset", "point"], sort=False).ngroup().to_numpy()
    units = unit.max() + 1
    group = paired.groupby(group_columns, sort=True).ngroup().to_numpy()
    values = np.full((group.max() + 1, units), np.nan)
    values[group, unit] = paired["difference"].to_numpy()
    value = _group_mean(values, np.ones(units))
    replicates = np.array([
        _group_mean(values, np.bincount(rng.integers(units, size=units),
                                        minlength=units).astype(float))
        for _ in range(n_boot)
    ])  # fmt: skip
    alpha = 1 - confidence
    low, high = np.nanquantile(replicates, [alpha / 2, 1 - alpha / 2])
    return value, float(low), float(high)


def geometry_claims(frame: pd.DataFrame, settings: dict,
                    gates: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """The C8 rows (claims.CLAIM_COLUMNS) for the geometry probe's rows; `settings` is the
    config's claims section, `gates` gates.posterior_gates."""
    rng = np.random.default_rng(settings["bootstrap_seed"])
    threshold = settings["c8_max"]
    specs = [
        ("C8", "gradient", averaging_differences, "Averaging over the posterior shrinks the "
         "input gradient's component normal to the data manifold (Section 3.2)",
         "posterior mean at the largest n minus one draw"),
        ("C8h", "lrp", averaging_differences, "Averaging over the posterior shrinks the LRP "
         "heatmap's component normal to the data manifold", "posterior mean at the largest n "
         "minus one draw"),
        ("C8d", "gradient", det_differences, "The Bayesian mean gradient is less normal to the "
         "data manifold than the deterministic net's", "posterior mean at the largest n "
         "minus the det net of the same architecture"),
    ]  # fmt: skip
    rows = []
    for name, quantity, pairing, statement, what in specs:
        paired = pairing(frame[frame["quantity"] == quantity])
        value, low, high = interval(paired, settings["bootstrap"], settings["confidence"], rng)
        rows.append({
            "claim": name, "statement": statement,
            "statistic": f"normal fraction of the {QUANTITY_TEXT[quantity]}: {what}, mean "
                         f"paired difference over points, averaged over (dataset, "
                         f"architecture, inference, seed) groups",
            "value": value, "ci_low": low, "ci_high": high,
            "n_seeds": int(paired["seed"].nunique()) if len(paired) else 0,
            "verdict": verdict(low, high, threshold, "below"), "threshold": f"< {threshold:g}",
            "test": "bootstrap", "p_value": np.nan, "n_rows": len(paired),
            "note": "" if len(paired) else "needs a Bayesian posterior (and, for C8d, the det "
                                           "net of its architecture) in the geometry probe",
            **dict(zip(("gate", "gate_note"), claim_gate(paired, gates), strict=True)),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, architecture, inference, seed, quantity, n): the normal fraction's
    median and quartiles over points, and the random direction's median (1 - d / D)."""
    keys = [*GROUP, "n_samples"]
    table = frame.groupby(keys, sort=True).agg(
        points=("normal_fraction", "count"),
        median=("normal_fraction", "median"),
        q25=("normal_fraction", lambda v: v.quantile(0.25)),
        q75=("normal_fraction", lambda v: v.quantile(0.75)),
        random_median=("random_normal_fraction", "median"),
        tangent_dim_median=("tangent_dim", "median"),
    )
    return table.reset_index()
