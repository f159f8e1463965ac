"""The study's claims C1-C5 as statistics with bootstrap intervals and verdicts.

Each claim is a statistic of the robustness table computed per seed; its value is the
mean over seeds, its interval a percentile bootstrap that resamples test points (paired:
a resampled point brings all its rows, every model, n, attack and layer) and, with three
or more seeds, the seeds too. The verdict compares the interval with a threshold from the
config: the whole interval beyond the threshold supports the claim, the whole interval on
the wrong side refutes it, anything else is inconclusive.

scipy's `bootstrap` resamples the rows of independent samples; ours must resample points
jointly across rows (and seeds hierarchically), hence the hand-written loop below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import mannwhitneyu, rankdata, spearmanr

from bayeslrp.models import output_layer

VERDICTS = ("supported", "not supported", "inconclusive")
CLAIM_COLUMNS = ["claim", "statement", "statistic", "value", "ci_low", "ci_high", "n_seeds",
                 "verdict", "threshold", "test", "p_value", "n_rows", "note"]  # fmt: skip


def at_output(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the pre-softmax (output) layer."""
    return frame[frame["layer"] == frame["arch"].map(output_layer)]


def largest_n(frame: pd.DataFrame) -> pd.DataFrame:
    """Bayesian rows at the largest number of posterior samples evaluated."""
    bayes = frame[frame["inference"] != "det"]
    return bayes[bayes["n_samples"] == bayes["n_samples"].max()]


def _median(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if len(values) else float("nan")


def _iqr(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan")
    q25, q75 = np.quantile(values, [0.25, 0.75])
    return float(q75 - q25)


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b = a[keep], b[keep]
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")  # undefined: too few rows or a constant column
    return float(np.corrcoef(rankdata(a), rankdata(b))[0, 1])


def _inner_minus_output_iqr(rows: dict) -> float:
    lrp, output = rows["lrp_robustness"], rows["output"]
    return _iqr(lrp[~output]) - _iqr(lrp[output])


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns the statistics read, as arrays: resampling arrays is ~100x cheaper than
    resampling a DataFrame, and the bootstrap resamples thousands of times."""
    return {
        "lrp_robustness": frame["lrp_robustness"].to_numpy(dtype=float),
        "softmax_robustness": frame["softmax_robustness"].to_numpy(dtype=float),
        "n_samples": frame["n_samples"].to_numpy(dtype=float),
        "det": (frame["inference"] == "det").to_numpy(),
        "vi": (frame["inference"] == "vi").to_numpy(),
        "output": (frame["layer"] == frame["arch"].map(output_layer)).to_numpy(),
    }


def _take(rows: dict, index: np.ndarray) -> dict:
    return {key: column[index] for key, column in rows.items()}


@dataclass(frozen=True)
class Claim:
    name: str
    statement: str
    statistic: str
    select: Callable[[pd.DataFrame, dict], pd.DataFrame]  # rows the statistic uses
    compute: Callable[[dict], float]  # statistic of one seed's rows (`_columns`)
    threshold: str  # key of the claims config
    supported_above: bool  # supported when the interval lies above (or below) the threshold
    test: str
    missing: str  # why the statistic is undefined when there are no rows


def _c1_select(frame, s):
    rows = at_output(frame)
    return rows[(rows["inference"] == "det") & (rows["k"] == s["k"]) & ~rows["attack_success"]]


def _c2_select(frame, s):
    return largest_n(at_output(frame)[lambda f: f["k"] == s["k"]])


def _c3_select(frame, s):
    rows = at_output(frame)
    return rows[(rows["inference"] != "det") & (rows["k"] == s["k"])]


def _c4_select(frame, s):
    rows = largest_n(frame[frame["k"] == s["k"]])
    if not {"vi", "hmc"} <= set(rows["inference"]):
        return rows.iloc[:0]
    return rows[rows["inference"].isin(["vi", "hmc"])]


def _c4_compute(rows):
    vi = rows["vi"]
    return _inner_minus_output_iqr(_take(rows, vi)) - _inner_minus_output_iqr(_take(rows, ~vi))


def _c5_select(frame, s):
    rows = at_output(frame)
    rows = rows[rows["k"] == s["k_correlation"]]
    det, bayes = rows[rows["inference"] == "det"], largest_n(rows)
    if det.empty or bayes.empty:
        return rows.iloc[:0]
    return pd.concat([det, bayes])


def _c5_compute(rows):
    det, lrp, softmax = rows["det"], rows["lrp_robustness"], rows["softmax_robustness"]
    return _spearman(lrp[~det], softmax[~det]) - _spearman(lrp[det], softmax[det])


CLAIMS = [
    Claim(
        "C1", "Deterministic LRP robustness is low, even when the attack fails",
        "median k-LRP robustness of deterministic nets at the output layer, over points whose "
        "prediction the attack did not change (every attack pooled)",
        _c1_select, lambda rows: _median(rows["lrp_robustness"]), "c1_max", False, "",
        "the attack changed every deterministic prediction",
    ),
    Claim(
        "C2", "Bayesian pre-softmax LRP robustness is close to 1",
        "median k-LRP robustness of Bayesian nets at the output layer with the largest n "
        "(every attack pooled)",
        _c2_select, lambda rows: _median(rows["lrp_robustness"]), "c2_min", True,
        "Mann-Whitney U, Bayesian > deterministic (same points, layer, k)",
        "no Bayesian nets in the run",
    ),
    Claim(
        "C3", "Bayesian LRP robustness grows with the number of posterior samples",
        "Spearman correlation of n with k-LRP robustness, Bayesian nets, output layer",
        _c3_select, lambda rows: _spearman(rows["n_samples"], rows["lrp_robustness"]),
        "c3_min", True, "Spearman correlation (scipy p-value, rows pooled)",
        "no Bayesian nets, or a single n",
    ),
    Claim(
        "C4", "VI nets have a broader robustness distribution in inner layers; HMC nets are "
        "stable across layers",
        "[IQR(inner layers) - IQR(output layer)] of VI minus the same for HMC, k-LRP "
        "robustness at the largest n",
        _c4_select, _c4_compute, "c4_min", True, "bootstrap",
        "needs both a VI and an HMC net and lrp.layers: all",
    ),
    Claim(
        "C5", "Bayesian LRP robustness correlates positively with softmax robustness; "
        "deterministic does not",
        "Spearman(LRP robustness at k_correlation, softmax robustness) of Bayesian nets at the "
        "largest n minus that of deterministic nets, output layer",
        _c5_select, _c5_compute, "c5_min", True, "bootstrap",
        "needs both deterministic and Bayesian nets",
    ),
]  # fmt: skip


def verdict(low: float, high: float, threshold: float, supported_above: bool) -> str:
    """supported / not supported when the interval lies wholly on one side of the threshold."""
    if np.isnan(low) or np.isnan(high):
        return "inconclusive"
    if supported_above:
        return (
            "supported"
            if low > threshold
            else "not supported"
            if high <= threshold
            else "inconclusive"
        )
    return (
        "supported" if high < threshold else "not supported" if low >= threshold else "inconclusive"
    )


def _resampler(rows: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Each row's point code (points are (dataset, point) pairs) and the number of points."""
    codes = rows.groupby(["dataset", "point"], sort=False).ngroup().to_numpy()
    return codes, int(codes.max()) + 1 if len(codes) else 0


def bootstrap(
    rows: pd.DataFrame, compute: Callable, n_boot: int, rng: np.random.Generator
) -> np.ndarray:
    """Bootstrap replicates of the seed-mean of `compute`, resampling points (and seeds).

    Points are resampled jointly over every row that belongs to them; with three or more
    seeds the seeds are resampled first (a two-level bootstrap), with fewer they are kept.
    """
    seeds = sorted(rows["seed"].unique())
    parts = {s: _columns(rows[rows["seed"] == s]) for s in seeds}
    codes = {s: _resampler(rows[rows["seed"] == s]) for s in seeds}
    replicates = np.empty(n_boot)
    for b in range(n_boot):
        chosen = rng.choice(seeds, size=len(seeds)) if len(seeds) >= 3 else seeds
        values = []
        for s in chosen:
            code, points = codes[s]
            counts = np.bincount(rng.integers(points, size=points), minlength=points)
            values.append(compute(_take(parts[s], np.repeat(np.arange(len(code)), counts[code]))))
        replicates[b] = np.nanmean(values) if not np.isnan(values).all() else np.nan
    return replicates


def _p_value(claim: Claim, rows: pd.DataFrame, frame: pd.DataFrame, s: dict,
             replicates: np.ndarray) -> float:  # fmt: skip
    if claim.name == "C2":  # Bayesian (largest n) vs deterministic nets of the same archs
        det = at_output(frame)
        det = det[(det["inference"] == "det") & (det["k"] == s["k"])
                  & det["arch"].isin(rows["arch"].unique())]  # fmt: skip
        a, b = rows["lrp_robustness"].dropna(), det["lrp_robustness"].dropna()
        return (
            float(mannwhitneyu(a, b, alternative="greater").pvalue) if len(a) and len(b) else np.nan
        )
    if claim.name == "C3":
        keep = rows["lrp_robustness"].notna()
        if (
            keep.sum() < 3
            or rows["n_samples"].nunique() < 2
            or rows["lrp_robustness"].nunique() < 2
        ):
            return np.nan
        return float(
            spearmanr(rows.loc[keep, "n_samples"], rows.loc[keep, "lrp_robustness"]).pvalue
        )
    if claim.test == "bootstrap":  # two-sided: how often the replicates cross the threshold
        valid = replicates[~np.isnan(replicates)]
        if not len(valid):
            return np.nan
        side = min((valid <= s[claim.threshold]).mean(), (valid >= s[claim.threshold]).mean())
        return float(min(1.0, 2 * side))
    return np.nan


def evaluate_claims(frame: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """One row per claim (CLAIM_COLUMNS) for the robustness rows in `frame`.

    `settings` is the config's `claims` section (k, k_correlation, thresholds, confidence,
    bootstrap, bootstrap_seed).
    """
    rng = np.random.default_rng(settings["bootstrap_seed"])
    alpha = 1 - settings["confidence"]
    rows_out = []
    for claim in CLAIMS:
        rows = claim.select(frame, settings)
        seeds = sorted(rows["seed"].unique())
        per_seed = [claim.compute(_columns(rows[rows["seed"] == s])) for s in seeds]
        value = float(np.nanmean(per_seed)) if per_seed and not np.isnan(per_seed).all() else np.nan
        low = high = np.nan
        replicates = np.array([])
        if not np.isnan(value):
            replicates = bootstrap(rows, claim.compute, settings["bootstrap"], rng)
            valid = replicates[~np.isnan(replicates)]
            if len(valid):
                low, high = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
        threshold = settings[claim.threshold]
        rows_out.append({
            "claim": claim.name, "statement": claim.statement, "statistic": claim.statistic,
            "value": value, "ci_low": low, "ci_high": high, "n_seeds": len(seeds),
            "verdict": verdict(low, high, threshold, claim.supported_above),
            "threshold": f"{'>' if claim.supported_above else '<'} {threshold:g}",
            "test": claim.test, "p_value": _p_value(claim, rows, frame, settings, replicates),
            "n_rows": len(rows), "note": claim.missing if np.isnan(value) else "",
        })  # fmt: skip
    return pd.DataFrame(rows_out, columns=CLAIM_COLUMNS)


def claims_breakdown(robustness: pd.DataFrame, settings: dict) -> pd.DataFrame:
    """Every claim on all datasets pooled and on each dataset, on all points and on the
    points the attack actually perturbed (columns `dataset`, `subset` first)."""
    frames = []
    for dataset in ["all", *sorted(robustness["dataset"].unique())]:
        rows = robustness if dataset == "all" else robustness[robustness["dataset"] == dataset]
        for subset in ("all", "perturbed"):
            part = rows if subset == "all" else rows[rows["perturbed"]]
            frames.append(evaluate_claims(part, settings).assign(dataset=dataset, subset=subset))
    table = pd.concat(frames, ignore_index=True)
    return table[["dataset", "subset", *CLAIM_COLUMNS]]


def claims_table(breakdown: pd.DataFrame) -> pd.DataFrame:
    """DESIGN.md's claims.csv: one row per claim, datasets pooled, every point; the
    perturbed-points-only value, interval and verdict beside it."""
    pooled = breakdown[breakdown["dataset"] == "all"]
    main = pooled[pooled["subset"] == "all"].drop(columns=["dataset", "subset"])
    perturbed = pooled[pooled["subset"] == "perturbed"].set_index("claim")
    extra = perturbed[["value", "ci_low", "ci_high", "verdict"]].add_suffix("_perturbed")
    return main.join(extra, on="claim").reset_index(drop=True)


COMPARISON_KEYS = ["dataset", "arch", "inference", "n_samples", "attack"]


def baseline_comparison(robustness: pd.DataFrame, baselines: pd.DataFrame, k: int) -> pd.DataFrame:
    """Median LRP robustness at the output layer beside each trivial explanation's, per
    model, n and attack (seeds and points pooled), on all points and perturbed points."""
    lrp = at_output(robustness)
    frames = [lrp[lrp["k"] == k].assign(explainer="lrp"), baselines[baselines["k"] == k]]
    rows = pd.concat(frames, ignore_index=True)
    tables = []
    for subset, part in (("", rows), ("_perturbed", rows[rows["perturbed"].astype(bool)])):
        medians = part.groupby([*COMPARISON_KEYS, "explainer"])["lrp_robustness"].median()
        tables.append(medians.unstack("explainer").add_suffix(subset))
    table = tables[0].join(tables[1]).reset_index()
    others = [c for c in tables[0].columns if c != "lrp"]
    table["beats_baselines"] = table["lrp"] > table[others].max(axis=1)
    table["beats_baselines_perturbed"] = table["lrp_perturbed"] > table[
        [f"{c}_perturbed" for c in others]
    ].max(axis=1)
    return table


def _flatten(overrides: dict, prefix: str = "") -> list[str]:
    items = []
    for key, value in sorted(overrides.items()):
        if isinstance(value, dict):
            items += _flatten(value, f"{prefix}{key}.")
        else:
            items.append(f"{prefix}{key}={value}")
    return items


def sensitivity_table(
    claims: dict[str, pd.DataFrame], attacks: dict[str, pd.DataFrame], overrides: dict
) -> pd.DataFrame:
    """One row per (variant, claim): the settings the variant changes, the statistic, its
    interval and verdict on all and on perturbed points, and how much of the attack against
    its Bayesian nets was masked (largest fraction of inputs left unchanged)."""
    frames = []
    for variant, table in claims.items():
        bayes = attacks[variant][attacks[variant]["inference"] != "det"]
        unchanged = bayes["unchanged_fraction"].max() if len(bayes) else float("nan")
        frames.append(table.assign(
            variant=variant, changes="; ".join(_flatten(overrides[variant])) or "(none)",
            bayes_unchanged_max=unchanged,
        ))  # fmt: skip
    columns = ["variant", "changes", "claim", "statement", "value", "ci_low", "ci_high",
               "verdict", "value_perturbed", "ci_low_perturbed", "ci_high_perturbed",
               "verdict_perturbed", "bayes_unchanged_max", "n_seeds"]  # fmt: skip
    return pd.concat(frames, ignore_index=True)[columns]


def _interval(value: float, low: float, high: float) -> str:
    if np.isnan(value):
        return "n/a"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def plain_answer(
    claims: pd.DataFrame,
    comparison: pd.DataFrame,
    attacks: pd.DataFrame,
    sensitivity: pd.DataFrame | None,
) -> list[str]:
    """Bullet points answering "is the Bayesian robustness real?" from this run's numbers."""
    c2 = claims.set_index("claim").loc["C2"]
    moved = _interval(c2.value_perturbed, c2.ci_low_perturbed, c2.ci_high_perturbed)
    lines = [f"- Claim C2 (Bayesian pre-softmax LRP robustness close to 1) is **{c2.verdict}** "
             f"in this run: {_interval(c2.value, c2.ci_low, c2.ci_high)}; on the points the "
             f"attack actually moved: **{c2.verdict_perturbed}**, {moved}."]  # fmt: skip
    bayes = attacks[attacks["inference"] != "det"]
    det = attacks[attacks["inference"] == "det"]
    if len(bayes):
        lines.append(
            f"- Gradient masking: against Bayesian nets the attacks left up to "
            f"{bayes['unchanged_fraction'].max():.0%} of the inputs unchanged and up to "
            f"{bayes['zero_gradient_fraction'].max():.0%} had an all-zero loss gradient "
            f"(deterministic nets: {det['unchanged_fraction'].max():.0%} and "
            f"{det['zero_gradient_fraction'].max():.0%}); up to "
            f"{bayes['saturated_fraction'].max():.0%} of per-sample top probabilities "
            f"exceed 0.999 (attacks.csv)."
        )
    top = comparison[comparison["inference"] != "det"]
    top = top[top["n_samples"] == top["n_samples"].max()]
    if len(top):
        lines.append(
            f"- Trivial explanations: at the largest n, Bayesian LRP beats the input, random "
            f"and gradient x input heatmaps in {int(top['beats_baselines'].sum())} of "
            f"{len(top)} groups (perturbed points: {int(top['beats_baselines_perturbed'].sum())})."
        )
    if sensitivity is not None and len(sensitivity):
        rows = sensitivity[sensitivity["claim"] == "C2"]
        for verdict in VERDICTS:
            names = rows.loc[rows["verdict_perturbed"] == verdict, "variant"].tolist()
            if names:
                lines.append(f"- Sensitivity: on perturbed points C2 is {verdict} under "
                             f"{', '.join(names)} (sensitivity.csv).")  # fmt: skip
    beats = len(top) > 0 and top["beats_baselines_perturbed"].all()
    if c2.verdict == "supported" and c2.verdict_perturbed == "supported" and beats:
        answer = ("yes, in this run: the robustness holds on inputs the attack moved and "
                  "beats trivial explanations.")  # fmt: skip
    elif c2.verdict == "supported" and c2.verdict_perturbed != "supported":
        answer = ("no: the high robustness rests on inputs the attack left unchanged "
                  "(gradient masking), not on stable explanations.")  # fmt: skip
    elif c2.verdict == "not supported":
        answer = "no: Bayesian LRP robustness is not close to 1 in this run."
    else:
        answer = "not settled by this run (see the intervals and the sensitivity study)."
    return [f"**Is the Bayesian robustness real?** Short answer: {answer}", "", *lines]


def summary_page(
    claims: pd.DataFrame,
    introduction: str,
    settings: dict,
    comparison: pd.DataFrame,
    attacks: pd.DataFrame | None = None,
    sensitivity: pd.DataFrame | None = None,
) -> str:
    """The report's first page (reStructuredText): a plain-language answer, the verdict on
    every claim on all points and on the points the attack actually perturbed, and how LRP
    compares with trivial explanations."""
    level = f"{settings['confidence']:.0%}"
    lines = [introduction.rstrip(), ""]
    if attacks is not None:
        lines += ["The answer in brief", "-" * 19, "",
                  *plain_answer(claims, comparison, attacks, sensitivity), ""]  # fmt: skip
    lines += ["Verdicts on the study's claims", "-" * 30, "",
             f"Each statistic is the mean over seeds, with a {level} bootstrap interval "
             "(points resampled, and seeds when there are three or more); a claim is "
             "supported when the whole interval lies beyond its threshold, not supported when "
             "it lies wholly on the other side, and inconclusive otherwise. The second verdict "
             "uses only the points the attack actually moved: a verdict that changes there "
             "rests on inputs the attack left unchanged (gradient masking).", "",
             ".. list-table::", "   :header-rows: 1", "",
             "   * - claim", "     - verdict (all points)", "     - statistic [interval]",
             "     - verdict (perturbed points)", "     - threshold"]  # fmt: skip
    for row in claims.itertuples():
        note = f" ({row.note})" if row.note else ""
        lines += [f"   * - {row.claim}: {row.statement}",
                  f"     - **{row.verdict}**{note}",
                  f"     - {_interval(row.value, row.ci_low, row.ci_high)}",
                  f"     - {row.verdict_perturbed}: "
                  f"{_interval(row.value_perturbed, row.ci_low_perturbed, row.ci_high_perturbed)}",
                  f"     - {row.threshold}"]  # fmt: skip
    lines += ["", "Definitions of the statistics are in the claims table and the README.", ""]
    lines += ["LRP against trivial explanations", "-" * 32, ""]
    for (inference, bayes), part in comparison.groupby(
        [comparison["inference"], comparison["inference"] != "det"]
    ):
        if bayes:
            part = part[part["n_samples"] == part["n_samples"].max()]
        lines.append(
            f"- {inference} nets{' at the largest n' if bayes else ''}: LRP's median robustness "
            f"(k = {settings['k']}) beats the input, random and gradient x input baselines in "
            f"{int(part['beats_baselines'].sum())} of {len(part)} (dataset, architecture, "
            f"attack) groups; on perturbed points only in "
            f"{int(part['beats_baselines_perturbed'].sum())} of {len(part)}. Details: "
            f"baseline_comparison.csv."
        )
    return "\n".join(lines) + "\n"
