"""What the per-point probe claims share (stability C9, faithfulness C10): paired
differences of one score per test point within comparable groups (dataset, architecture,
inference, seed, explainer), their mean over groups with a bootstrap interval over test
points (geometry_claims.interval), and the claims-table row.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from bayeslrp.claims import verdict
from bayeslrp.gates import claim_gate
from bayeslrp.geometry_claims import interval
from bayeslrp.names import BAYESIAN_INFERENCES

GROUP = ["dataset", "arch", "inference", "seed", "explainer"]


def bayesian_at_largest_n(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of the Bayesian posteriors at their largest n (when above 1)."""
    rows = frame[frame["inference"].isin(BAYESIAN_INFERENCES)]
    largest = rows.groupby(GROUP)["n_samples"].transform("max")
    return rows[(rows["n_samples"] == largest) & (largest > 1)]


def averaging_differences(frame: pd.DataFrame) -> pd.DataFrame:
    """Per Bayesian posterior, explainer and point: the score (`value`) of the mean over the
    largest n draws minus that of one draw (column `difference`)."""
    one = frame[frame["inference"].isin(BAYESIAN_INFERENCES) & (frame["n_samples"] == 1)]
    paired = bayesian_at_largest_n(frame).merge(one, on=[*GROUP, "point"],
                                                suffixes=("", "_one"))  # fmt: skip
    return paired.assign(difference=paired["value"] - paired["value_one"])


def det_differences(frame: pd.DataFrame) -> pd.DataFrame:
    """Per Bayesian posterior (largest n), explainer and point: its score minus that of the
    det net of the same dataset, architecture and seed (column `difference`)."""
    keys = ["dataset", "arch", "seed", "explainer", "point"]
    det = frame[frame["inference"] == "det"][[*keys, "value"]]
    paired = bayesian_at_largest_n(frame).merge(det, on=keys, suffixes=("", "_det"))
    return paired.assign(difference=paired["value"] - paired["value_det"])


def det_values(frame: pd.DataFrame) -> pd.DataFrame:
    """The det nets' rows, their score as the `difference` (a one-sample statistic)."""
    det = frame[frame["inference"] == "det"]
    return det.assign(difference=det["value"])


def claim_row(name: str, statement: str, statistic: str, paired: pd.DataFrame,
              settings: dict, threshold: float, side: str, rng: np.random.Generator,
              gates: pd.DataFrame | None, missing: str) -> dict:  # fmt: skip
    """One claims.CLAIM_COLUMNS row for the paired differences `paired`; `side` is
    claims.verdict's (`above`, `below`); `missing` the note when there is nothing to pair."""
    value, low, high = interval(paired, settings["bootstrap"], settings["confidence"], rng,
                                GROUP)  # fmt: skip
    mark = "<" if side == "below" else ">"
    return {
        "claim": name, "statement": statement, "statistic": statistic,
        "value": value, "ci_low": low, "ci_high": high,
        "n_seeds": int(paired["seed"].nunique()) if len(paired) else 0,
        "verdict": verdict(low, high, threshold, side), "threshold": f"{mark} {threshold:g}",
        "test": "bootstrap", "p_value": np.nan, "n_rows": len(paired),
        "note": "" if len(paired) else missing,
        **dict(zip(("gate", "gate_note"), claim_gate(paired, gates), strict=True)),
    }  # fmt: skip


def summarise(frame: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, architecture, inference, seed, explainer, n, metric): the median and
    quartiles of `value` over points."""
    table = frame.groupby([*GROUP, "n_samples", "metric"], sort=True)["value"].agg(
        points="count", median="median",
        q25=lambda v: v.quantile(0.25), q75=lambda v: v.quantile(0.75),
    )  # fmt: skip
    return table.reset_index()


def other_explainers(frame: pd.DataFrame, study: str) -> list[str]:
    """The explainers beside `study` that ran for a Bayesian posterior, sorted."""
    bayesian = frame[frame["inference"].isin(BAYESIAN_INFERENCES)]
    return sorted(e for e in bayesian["explainer"].unique() if e != study)


def long_table(scores: dict[str, dict[int, dict[str, torch.Tensor]]],
               keys: dict) -> pd.DataFrame:  # fmt: skip
    """A probe's per-point rows (the long format this module reads): explainer -> n ->
    metric -> [N] scores, with the model's `keys` (dataset, arch, inference, seed) first."""
    rows = [pd.DataFrame({"explainer": explainer, "n_samples": n, "metric": metric,
                          "point": range(len(values)), "value": values.cpu().numpy()})
            for explainer, per_n in scores.items() for n, metrics in per_n.items()
            for metric, values in metrics.items()]  # fmt: skip
    table = pd.concat(rows, ignore_index=True)
    for column, value in reversed(keys.items()):
        table.insert(0, column, value)
    return table
