"""The study's claims C1-C5 as statistics with bootstrap intervals and verdicts.

Each claim is a statistic of the robustness table computed per seed; its value is the
mean over seeds, its interval a percentile bootstrap that resamples test points (paired:
a resampled point brings all its rows, every model, n, attack and layer) and, with three
or more seeds, the seeds too. The verdict compares the interval with a threshold from the
config: the whole interval beyond the threshold supports the claim, the whole interval on
the wrong side refutes it, anything else is inconclusive.

Spreads and correlations are computed within comparable groups, never over pooled rows:
a group is one (dataset, attack, architecture, inference) and, for spreads, one layer.
Offsets between groups (datasets differ in difficulty, attacks in strength) would
otherwise create a correlation or a spread that exists inside none of them. The group
statistics are then averaged. P-values use one value per test point (its paired
difference averaged over groups and seeds), the independent unit: the many rows of one
point (every n, attack, layer) are not independent observations.

scipy's `bootstrap` resamples the rows of independent samples; ours must resample points
jointly across rows (and seeds hierarchically), hence the hand-written loop below.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from bayeslrp.gates import claim_gate
from bayeslrp.models import LEARNABLE_LAYERS, output_layer
from bayeslrp.names import (
    AVERAGING_CONTROLS,
    BAYESIAN_INFERENCES,
    CONTROL_ATTACKS,
    DET_ONLY_EXPLAINERS,
    EXPLANATION_ATTACKS,
    SMOOTHING_RIVAL,
    STUDY_EXPLAINER,
    TWIN_OF,
)
from bayeslrp.tables import study_rows, topk_rows

VERDICTS = ("supported", "not supported", "inconclusive")
SIDES = ("above", "below", "within")
CLAIM_COLUMNS = ["claim", "statement", "statistic", "value", "ci_low", "ci_high", "n_seeds",
                 "verdict", "threshold", "test", "p_value", "n_rows", "note", "gate",
                 "gate_note"]  # fmt: skip
GROUP_KEYS = ["dataset", "attack", "arch", "inference"]  # rows of one comparable group
POINT_KEYS = ["dataset", "point"]  # one independent unit


def at_output(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the pre-softmax (output) layer."""
    return frame[frame["layer"] == frame["arch"].map(OUTPUT_LAYER)]


def _attacks_only(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of real attacks: control perturbations (names.CONTROL_ATTACKS) are left out."""
    return frame[~frame["attack"].isin(CONTROL_ATTACKS)]


def middle_layer(arch: str) -> int:
    """The intermediate layer of the study's figures: the middle learnable layer."""
    layers = LEARNABLE_LAYERS[arch]
    return layers[len(layers) // 2]


# arch -> layer id as mappings: Series.map of a dict is vectorised, of a function is not
OUTPUT_LAYER = {arch: output_layer(arch) for arch in LEARNABLE_LAYERS}
MIDDLE_LAYER = {arch: middle_layer(arch) for arch in LEARNABLE_LAYERS}


def largest_n(frame: pd.DataFrame) -> pd.DataFrame:
    """Bayesian rows at the largest number of posterior samples evaluated."""
    bayes = bayesian(frame)
    return bayes[bayes["n_samples"] == bayes["n_samples"].max()]


def bayesian(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows of the Bayesian nets (names.BAYESIAN_INFERENCES), not of det or the controls."""
    return frame[frame["inference"].isin(BAYESIAN_INFERENCES)]


def _median(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if len(values) else float("nan")


def _iqr(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan")
    q25, q75 = np.quantile(values, [0.25, 0.75])
    return float(q75 - q25)


def _nanmean(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(np.nanmean(values)) if len(values) and not np.isnan(values).all() else np.nan


def _per_group(rows: dict, statistic: Callable[[dict], float], mask=None) -> float:
    """Mean over comparable groups (GROUP_KEYS) of `statistic` computed inside each group."""
    index = np.arange(len(rows["group"])) if mask is None else np.flatnonzero(mask)
    # One stable sort splits the rows into groups (ascending codes, rows in their order):
    # the same groups a mask per group gives, without a pass over every row per group.
    index = index[np.argsort(rows["group"][index], kind="stable")]
    codes = rows["group"][index]
    bounds = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    return _nanmean([statistic(_take(rows, part)) for part in np.split(index, bounds)
                     if len(part)])  # fmt: skip


def _spearman_by_group(a: np.ndarray, b: np.ndarray, group: np.ndarray, size: int) -> np.ndarray:
    """Spearman's rho of `a` and `b` inside each group (codes 0..size-1) in one pass: sums
    by group (np.bincount) instead of a call per group per bootstrap replicate (the claims'
    correlations ran ~40 groups x 1,000 replicates x slices). NaN rows are dropped; a group
    with fewer than 3 rows or a constant column is NaN (undefined)."""
    rho = np.full(size, np.nan)
    keep = ~(np.isnan(a) | np.isnan(b))
    a, b, group = a[keep], b[keep], group[keep]
    if not len(a):
        return rho
    count = np.bincount(group, minlength=size).astype(float)

    def centred_ranks(values):
        order = np.lexsort((values, group))  # by group, then value
        g, v = group[order], values[order]
        first = np.empty(len(v), dtype=bool)  # first of each run of ties within a group
        first[0], first[1:] = True, (v[1:] != v[:-1]) | (g[1:] != g[:-1])
        run = np.cumsum(first) - 1
        starts = np.append(np.flatnonzero(first), len(v))
        ranks = np.empty(len(v))
        # average ranks; their offset within the group does not matter once centred
        ranks[order] = 0.5 * (starts[run] + starts[run + 1] + 1)
        return ranks - np.bincount(group, ranks, size)[group] / count[group]

    ra, rb = centred_ranks(a), centred_ranks(b)
    saa, sbb = np.bincount(group, ra * ra, size), np.bincount(group, rb * rb, size)
    sab = np.bincount(group, ra * rb, size)
    defined = (count >= 3) & (saa > 0) & (sbb > 0)
    rho[defined] = np.clip(sab[defined] / np.sqrt(saa[defined] * sbb[defined]), -1.0, 1.0)
    return rho


def _defined_mean(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(values.mean()) if len(values) else float("nan")


def _group_codes(rows: dict) -> tuple[np.ndarray, int]:
    """The rows' groups as codes 0..size-1 (ascending group), and size."""
    codes = np.unique(rows["group"], return_inverse=True)[1]
    return codes, int(codes.max()) + 1 if len(codes) else 0


def _grouped_spearman(rows: dict, a_key: str, b_key: str) -> float:
    """The mean over groups (GROUP_KEYS) of Spearman's rho of two columns inside each group,
    undefined groups left out; scipy's per group to rounding (tests/test_claims.py)."""
    group, size = _group_codes(rows)
    return _defined_mean(_spearman_by_group(rows[a_key], rows[b_key], group, size))


def _columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The columns the statistics read, as arrays: resampling arrays is ~100x cheaper than
    resampling a DataFrame, and the bootstrap resamples thousands of times."""
    return {
        "explanation_robustness": frame["explanation_robustness"].to_numpy(dtype=float),
        "softmax_robustness": frame["softmax_robustness"].to_numpy(dtype=float),
        "n_samples": frame["n_samples"].to_numpy(dtype=float),
        "det": (frame["inference"] == "det").to_numpy(),
        "vi": (frame["inference"] == "vi").to_numpy(),
        "output": (frame["layer"] == frame["arch"].map(OUTPUT_LAYER)).to_numpy(),
        "middle": (frame["layer"] == frame["arch"].map(MIDDLE_LAYER)).to_numpy(),
        "group": frame.groupby(GROUP_KEYS, sort=True).ngroup().to_numpy(),
        # the deterministic reference rows of the matched-strength claims (_with_det)
        "reference": (frame["reference"].to_numpy(dtype=bool) if "reference" in frame
                      else np.zeros(len(frame), dtype=bool)),
    }  # fmt: skip


class _Rows(dict):
    """The rows `index` of `base` (a dict of columns), each column taken when first read:
    a statistic reads two or three of `_columns`' nine, and the bootstrap takes rows
    millions of times."""

    def __init__(self, base: dict, index: np.ndarray):
        super().__init__()
        self._base, self._index = base, index

    def __missing__(self, key: str) -> np.ndarray:
        column = self[key] = self._base[key][self._index]
        return column


def _take(rows: dict, index: np.ndarray) -> dict:
    return _Rows(rows, index)


@dataclass(frozen=True)
class Claim:
    name: str
    statement: str
    statistic: str
    select: Callable[[pd.DataFrame, dict], pd.DataFrame]  # rows the statistic uses
    compute: Callable[[dict], float]  # statistic of one seed's rows (`_columns`)
    threshold: str  # key of the claims config
    side: str  # supported when the interval lies above / below / within +-threshold
    test: str
    missing: str  # why the statistic is undefined when there are no rows
    p_value: Callable[[pd.DataFrame, pd.DataFrame, dict], float] | None = None


def _c1_select(frame, s):
    rows = at_output(frame)
    return rows[(rows["inference"] == "det") & (rows["k"] == s["k"]) & ~rows["attack_success"]]


def _c2_select(frame, s):
    return largest_n(at_output(frame)[lambda f: f["k"] == s["k"]])


def _c3_select(frame, s):
    rows = bayesian(at_output(frame))
    rows = rows[rows["k"] == s["k"]]
    return rows if rows["n_samples"].nunique() > 1 else rows.iloc[:0]


def _c3_compute(rows):
    return _grouped_spearman(rows, "n_samples", "explanation_robustness")


def _c4_select(frame, s):
    rows = largest_n(frame[frame["k"] == s["k"]])
    if not {"vi", "hmc"} <= set(rows["inference"]):
        return rows.iloc[:0]
    rows = rows[rows["inference"].isin(["vi", "hmc"])]
    middle = rows["layer"] == rows["arch"].map(MIDDLE_LAYER)
    output = rows["layer"] == rows["arch"].map(OUTPUT_LAYER)
    if not middle.any():
        return rows.iloc[:0]
    return rows[middle | output]


def _middle_minus_output_iqr(group: dict) -> float:
    lrp = group["explanation_robustness"]
    return _iqr(lrp[group["middle"]]) - _iqr(lrp[group["output"]])


def _c4_compute(rows):
    vi = _per_group(rows, _middle_minus_output_iqr, rows["vi"])
    hmc = _per_group(rows, _middle_minus_output_iqr, ~rows["vi"])
    return vi - hmc


def _c5_rows(frame, s):
    rows = at_output(frame)
    return rows[rows["k"] == s["k_correlation"]]


def _lrp_softmax_rho(rows):
    return _grouped_spearman(rows, "explanation_robustness", "softmax_robustness")


def _point_values(rows: pd.DataFrame, value: pd.Series) -> np.ndarray:
    """One value per test point: `value` (indexed like `rows`) averaged over the point's
    groups and seeds."""
    return value.groupby([rows["dataset"], rows["point"]]).mean().dropna().to_numpy()


def _wilcoxon_greater(differences: np.ndarray) -> float:
    """One-sided Wilcoxon signed-rank p-value of per-point differences > 0."""
    differences = differences[differences != 0]
    if len(differences) < 2:
        return np.nan
    return float(wilcoxon(differences, alternative="greater").pvalue)


def _c2_p_value(rows, frame, s):
    # Paired: each Bayesian row against the deterministic net of the same dataset, attack,
    # architecture and point (and seed), then one mean difference per point.
    det = at_output(frame)
    det = det[(det["inference"] == "det") & (det["k"] == s["k"])]
    keys = ["dataset", "attack", "arch", "seed", "point"]
    paired = rows.merge(det[[*keys, "explanation_robustness"]], on=keys, suffixes=("", "_det"))
    if paired.empty:
        return np.nan
    difference = paired["explanation_robustness"] - paired["explanation_robustness_det"]
    return _wilcoxon_greater(_point_values(paired, difference))


def _c3_p_value(rows, frame, s):
    keys = [*GROUP_KEYS, "seed", "point"]
    low = rows[rows["n_samples"] == rows["n_samples"].min()]
    high = rows[rows["n_samples"] == rows["n_samples"].max()]
    paired = high.merge(low[[*keys, "explanation_robustness"]], on=keys, suffixes=("", "_low"))
    if paired.empty:
        return np.nan
    difference = paired["explanation_robustness"] - paired["explanation_robustness_low"]
    return _wilcoxon_greater(_point_values(paired, difference))


def _paired_with(frame, s, left: pd.DataFrame, references) -> pd.DataFrame:
    """One row per pair of a `left` row and a reference net (inference in `references`)
    of the same dataset, attack, architecture, seed, n and point at the output layer, its
    `explanation_robustness` the left minus the reference's; the pair and n label the group
    (`inference`), so each mean is taken within one."""
    rows = at_output(frame)
    rows = rows[rows["k"] == s["k"]]
    left = left[(left["layer"] == left["arch"].map(OUTPUT_LAYER)) & (left["k"] == s["k"])]
    keys = ["dataset", "attack", "arch", "seed", "n_samples", "point"]
    reference = rows[rows["inference"].isin(references)]
    if (reference["n_samples"] == 1).all():  # a single network is compared at every n
        reference = reference.drop(columns="n_samples")
        keys = [k for k in keys if k != "n_samples"]
    paired = left.merge(
        reference[[*keys, "inference", "explanation_robustness"]], on=keys,
        suffixes=("", "_control"),
    )  # fmt: skip
    paired["explanation_robustness"] = (
        paired["explanation_robustness"] - paired["explanation_robustness_control"]
    )
    paired["bayes_inference"] = paired["inference"]  # for the gates (gates.claim_gate)
    paired["inference"] = (paired["inference"] + " - " + paired["inference_control"] + " n="
                           + paired["n_samples"].astype(str))  # fmt: skip
    return paired


def _c2b_select(frame, s):
    # HMC at its largest n against the deterministic net trained on the same images.
    rows = largest_n(frame)
    return _paired_with(frame, s, rows[rows["inference"] == TWIN_OF], ["twin"])


def _c6_select(frame, s):
    return _paired_with(frame, s, bayesian(frame), AVERAGING_CONTROLS)


# The pseudo-family of claim C7: the det net explained by the smoothing rival.
SMOOTHED_DET = f"det_{SMOOTHING_RIVAL}"


def _c7_select(frame, s):
    return _paired_with(frame, s, largest_n(bayesian(frame)), [SMOOTHED_DET])


def _mean_paired_difference(rows):
    # _per_group(rows, lambda g: _nanmean(g["explanation_robustness"])) in one pass
    # (sums by group), equal to rounding (tests/test_claims.py)
    values, group = rows["explanation_robustness"], rows["group"]
    keep = ~np.isnan(values)
    if not keep.any():
        return float("nan")
    group = np.unique(group[keep], return_inverse=True)[1]
    return float(np.mean(np.bincount(group, values[keep]) / np.bincount(group)))


def _paired_p_value(rows, frame, s):
    return _wilcoxon_greater(_point_values(rows, rows["explanation_robustness"]))


# Strata of softmax robustness for the matched-strength claims: quantiles of the pooled
# values of a group (Bayesian and deterministic points together), so every stratum holds
# points of both where their attack strengths overlap.
MATCHED_STRATA = 5


def _with_det(frame, bayes_rows: pd.DataFrame) -> pd.DataFrame:
    """`bayes_rows` (output layer, one k) and, per Bayesian inference, a copy of the det
    rows at that k of the same datasets, attacks and architectures, marked `reference` and
    labelled with that inference: each (dataset, attack, arch, inference) group then holds
    one Bayesian net and its deterministic reference."""
    det = at_output(frame)
    det = det[(det["inference"] == "det") & (det["k"] == bayes_rows["k"].iloc[0])] \
        if len(bayes_rows) else det.iloc[:0]  # fmt: skip
    keys = ["dataset", "attack", "arch", "seed"]
    parts = []
    for inference, rows in bayes_rows.groupby("inference", sort=True):
        reference = det.merge(rows[keys].drop_duplicates(), on=keys)
        if len(reference):
            parts += [rows.assign(reference=False),
                      reference.assign(inference=inference, reference=True)]  # fmt: skip
    return pd.concat(parts, ignore_index=True) if parts else bayes_rows.iloc[:0]


def _shared_strata(rows: dict) -> dict:
    """The rows with both LRP and softmax robustness defined that lie in a stratum (of their
    group's softmax robustness) holding Bayesian and reference rows both, for
    every group in one pass: `group` (codes 0..size-1), `cell` (group x stratum), `size`,
    `reference`, `lrp`, `softmax`. A group's strata: MATCHED_STRATA bins between the distinct
    quantiles of its softmax robustness (fewer where values tie); tests/test_claims.py
    checks them against np.quantile, np.unique and np.searchsorted per group."""
    lrp, softmax = rows["explanation_robustness"], rows["softmax_robustness"]
    group, size = _group_codes(rows)
    defined = ~(np.isnan(lrp) | np.isnan(softmax))
    group, lrp, softmax = group[defined], lrp[defined], softmax[defined]
    reference = rows["reference"][defined]
    count = np.bincount(group, minlength=size)
    ordered = softmax[np.lexsort((softmax, group))]  # by group, then value
    start = np.cumsum(count) - count
    # np.quantile per group (linear): MATCHED_STRATA + 1 edges, numpy's formula term for
    # term so that the edges are the same bits
    position = np.linspace(0, 1, MATCHED_STRATA + 1)[None, :] * (count[:, None] - 1)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, count[:, None] - 1)
    t = position - low
    last = max(len(ordered) - 1, 0)  # groups without rows index anything; never read
    a = ordered[np.clip(start[:, None] + low, 0, last)] if len(ordered) else position
    b = ordered[np.clip(start[:, None] + high, 0, last)] if len(ordered) else position
    edges = np.sort(np.where(t >= 0.5, b - (b - a) * (1 - t), a + (b - a) * t), axis=1)
    # np.unique(edges)[1:-1]: each distinct value once, not the smallest or largest
    inner = np.ones(edges.shape, dtype=bool)
    inner[:, 1:] = edges[:, 1:] != edges[:, :-1]
    inner &= (edges != edges[:, :1]) & (edges != edges[:, -1:])
    # searchsorted(inner edges, value, side="right"): the inner edges <= value
    stratum = ((edges[group] <= softmax[:, None]) & inner[group]).sum(axis=1)
    cell = group * (MATCHED_STRATA + 1) + stratum
    cells = size * (MATCHED_STRATA + 1)
    shared = (np.bincount(cell, reference, cells) > 0) & (np.bincount(cell, ~reference, cells) > 0)
    keep = shared[cell]
    return {"group": group[keep], "cell": cell[keep], "size": size,
            "reference": reference[keep], "lrp": lrp[keep], "softmax": softmax[keep]}  # fmt: skip


def _matched_difference(rows: dict) -> float:
    """Bayesian minus deterministic mean LRP robustness within strata of softmax robustness,
    weighted by the Bayesian points per stratum: the deterministic net reweighted to the
    Bayesian net's distribution of attack effect (coarsened exact matching). Mean over
    groups (GROUP_KEYS), each group one Bayesian net beside its reference."""
    shared = _shared_strata(rows)
    cells = shared["size"] * (MATCHED_STRATA + 1)
    cell, reference, lrp = shared["cell"], shared["reference"], shared["lrp"]
    bayes_n = np.bincount(cell, ~reference, cells)
    det_n = np.bincount(cell, reference, cells)
    filled = bayes_n > 0  # a shared stratum holds both
    difference = np.zeros(cells)
    bayes_sum = np.bincount(cell, lrp * ~reference, cells)
    det_sum = np.bincount(cell, lrp * reference, cells)
    difference[filled] = bayes_sum[filled] / bayes_n[filled] - det_sum[filled] / det_n[filled]
    owner = np.arange(cells) // (MATCHED_STRATA + 1)
    total = np.bincount(owner, bayes_n * difference, shared["size"])
    weight = np.bincount(owner, bayes_n, shared["size"])
    return _defined_mean(np.where(weight > 0, total / np.where(weight > 0, weight, 1), np.nan))


def _matched_rho_difference(rows: dict) -> float:
    """Spearman(LRP, softmax robustness) of the Bayesian net minus the deterministic net's,
    both on the strata of softmax robustness they share (the same range of attack effect:
    a correlation over a narrower range is weaker for that reason alone). Mean over
    groups."""
    shared = _shared_strata(rows)
    side = 2 * shared["group"] + shared["reference"]  # Bayesian 2g, reference 2g + 1
    rho = _spearman_by_group(shared["lrp"], shared["softmax"], side, 2 * shared["size"])
    return _defined_mean(rho[0::2] - rho[1::2])


def _c2m_select(frame, s):
    return _with_det(frame, _c2_select(frame, s))


def _c5m_select(frame, s):
    return _with_det(frame, largest_n(_c5_rows(frame, s)))


CLAIMS = [
    Claim(
        "C1", "Deterministic LRP robustness is low, even when the attack fails",
        "median k-LRP robustness of deterministic nets at the output layer, over points whose "
        "prediction the attack did not change (every attack pooled)",
        _c1_select, lambda rows: _median(rows["explanation_robustness"]), "c1_max", "below", "",
        "the attack changed every deterministic prediction",
    ),
    Claim(
        "C2", "Bayesian pre-softmax LRP robustness is close to 1",
        "median k-LRP robustness of Bayesian nets at the output layer with the largest n "
        "(every attack pooled)",
        _c2_select, lambda rows: _median(rows["explanation_robustness"]), "c2_min", "above",
        "Wilcoxon signed-rank, Bayesian > deterministic: one mean paired difference per "
        "point (same dataset, attack, architecture, seed)",
        "no Bayesian nets in the run", _c2_p_value,
    ),
    Claim(
        "C2m", "Bayesian LRP robustness beats the deterministic net's at matched attack "
        "strength",
        "Bayesian minus deterministic mean k-LRP robustness at the output layer (largest n), "
        "within quintiles of softmax robustness (the attack's effect on the prediction) "
        "pooled over both nets, weighted by the Bayesian points per stratum, within each "
        "(dataset, attack, architecture, inference) group, averaged over groups",
        _c2m_select, _matched_difference, "c2m_min", "above",
        "bootstrap", "needs a Bayesian net and the det net of its architecture with "
        "overlapping softmax robustness",
    ),
    Claim(
        "C2b", "HMC LRP robustness beats the deterministic net trained on the same images",
        "mean paired difference of k-LRP robustness at the output layer, HMC at the largest "
        "n minus the matched-data twin (a deterministic net on HMC's training images) of "
        "the same architecture and seed, within each (dataset, attack, architecture) group, "
        "averaged over groups",
        _c2b_select, _mean_paired_difference, "c2b_min", "above",
        "Wilcoxon signed-rank, HMC > twin: one mean paired difference per point",
        "needs an HMC net and the twin (<arch>_twin) of its architecture", _paired_p_value,
    ),
    Claim(
        "C3", "Bayesian LRP robustness grows with the number of posterior samples",
        "Spearman correlation of n with k-LRP robustness within each (dataset, attack, "
        "architecture, inference) group of Bayesian nets, output layer, averaged over groups",
        _c3_select, _c3_compute, "c3_min", "above",
        "Wilcoxon signed-rank, robustness at the largest n > at the smallest: one mean paired "
        "difference per point",
        "no Bayesian nets, or a single n", _c3_p_value,
    ),
    Claim(
        "C4", "VI nets have a broader robustness distribution in inner layers; HMC nets are "
        "stable across layers",
        "IQR(middle learnable layer) - IQR(output layer) of k-LRP robustness within each "
        "(dataset, attack, architecture) group at the largest n, averaged over VI groups, "
        "minus the same averaged over HMC groups",
        _c4_select, _c4_compute, "c4_min", "above", "bootstrap",
        "needs both a VI and an HMC net and the middle and output layers in lrp.layers",
    ),
    Claim(
        "C5a", "Bayesian LRP robustness correlates positively with softmax robustness",
        "Spearman(LRP robustness at k_correlation, softmax robustness) within each (dataset, "
        "attack, architecture, inference) group of Bayesian nets at the largest n, output "
        "layer, averaged over groups",
        lambda frame, s: largest_n(_c5_rows(frame, s)), _lrp_softmax_rho, "c5_min", "above",
        "bootstrap", "no Bayesian nets in the run",
    ),
    Claim(
        "C5b", "Deterministic LRP robustness does not correlate with softmax robustness",
        "the same Spearman correlation for deterministic nets, averaged over groups; "
        "supported when its interval lies within +- c5_det_max",
        lambda frame, s: _c5_rows(frame, s)[lambda f: f["inference"] == "det"],
        _lrp_softmax_rho, "c5_det_max", "within", "bootstrap",
        "no deterministic nets in the run",
    ),
    Claim(
        "C5m", "Bayesian LRP robustness tracks softmax robustness more closely than the "
        "deterministic net's, over the same range of attack effect",
        "Spearman(LRP robustness at k_correlation, softmax robustness) of the Bayesian net "
        "(largest n) minus the det net's, both on the quintiles of softmax robustness they "
        "share, within each (dataset, attack, architecture, inference) group, averaged over "
        "groups",
        _c5m_select, _matched_rho_difference, "c5m_min", "above",
        "bootstrap", "needs a Bayesian net and the det net of its architecture with "
        "overlapping softmax robustness",
    ),
    Claim(
        "C6", "Bayesian averaging beats non-Bayesian averaging",
        "mean paired difference of k-LRP robustness at the output layer, Bayesian net minus "
        "averaging control (deep ensemble, weight noise) of the same architecture at the "
        "same n, within each (dataset, attack, architecture, pair, n) group, averaged over "
        "groups",
        _c6_select, _mean_paired_difference,
        "c6_min", "above",
        "Wilcoxon signed-rank, Bayesian > control: one mean paired difference per point",
        "needs a Bayesian net and an averaging control (ensemble, weight_noise) of the same "
        "architecture evaluated at the same n", _paired_p_value,
    ),
    Claim(
        "C7", "Bayesian averaging beats beta-smoothing of the deterministic net",
        "mean paired difference of k-LRP robustness at the output layer, Bayesian net at the "
        "largest n minus the deterministic net of the same architecture and seed explained "
        "with beta-smoothed LRP (explainers.beta_lrp: one network, no averaging), within "
        "each (dataset, attack, architecture, pair) group, averaged over groups",
        _c7_select, _mean_paired_difference, "c7_min", "above",
        "Wilcoxon signed-rank, Bayesian > beta-smoothed det: one mean paired difference per "
        "point",
        "needs a Bayesian net and beta_lrp in explainers.names with the det net of its "
        "architecture", _paired_p_value,
    ),
]  # fmt: skip


def verdict(low: float, high: float, threshold: float, side: str) -> str:
    """supported / not supported when the interval lies wholly on one side of the threshold
    (`above`, `below`), or wholly inside / outside [-threshold, threshold] (`within`)."""
    if side not in SIDES:
        raise ValueError(f"unknown side {side!r}; choose from {SIDES}")
    if np.isnan(low) or np.isnan(high):
        return "inconclusive"
    if side == "above":
        supported, refuted = low > threshold, high <= threshold
    elif side == "below":
        supported, refuted = high < threshold, low >= threshold
    else:
        supported = -threshold < low and high < threshold
        refuted = low >= threshold or high <= -threshold
    return "supported" if supported else "not supported" if refuted else "inconclusive"


def _threshold_text(side: str, threshold: float) -> str:
    return {"above": f"> {threshold:g}", "below": f"< {threshold:g}",
            "within": f"within +-{threshold:g}"}[side]  # fmt: skip


def _resampler(rows: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Each row's point code (points are (dataset, point) pairs) and the number of points."""
    codes = rows.groupby(POINT_KEYS, sort=False).ngroup().to_numpy()
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
        replicates[b] = _nanmean(values)
    return replicates


def _bootstrap_p_value(replicates: np.ndarray, threshold: float) -> float:
    """Two-sided: how often the replicates cross the threshold."""
    valid = replicates[~np.isnan(replicates)]
    if not len(valid):
        return np.nan
    side = min((valid <= threshold).mean(), (valid >= threshold).mean())
    return float(min(1.0, 2 * side))


def evaluate_claim(
    claim: Claim,
    rows: pd.DataFrame,
    frame: pd.DataFrame,
    settings: dict,
    rng: np.random.Generator,
    gates: pd.DataFrame | None = None,
) -> dict:
    """One row of the claims table for `claim` on its selected `rows` of `frame`; `gates`
    (gates.posterior_gates) flag a claim resting on a posterior that failed them."""
    alpha = 1 - settings["confidence"]
    seeds = sorted(rows["seed"].unique())
    value = _nanmean([claim.compute(_columns(rows[rows["seed"] == s])) for s in seeds])
    low = high = np.nan
    replicates = np.array([])
    if not np.isnan(value):
        replicates = bootstrap(rows, claim.compute, settings["bootstrap"], rng)
        valid = replicates[~np.isnan(replicates)]
        if len(valid):
            low, high = np.quantile(valid, [alpha / 2, 1 - alpha / 2])
    threshold = settings[claim.threshold]
    if claim.p_value is not None:
        p_value = claim.p_value(rows, frame, settings) if len(rows) else np.nan
    elif claim.test == "bootstrap" and claim.side != "within":
        p_value = _bootstrap_p_value(replicates, threshold)
    else:
        p_value = np.nan
    return {
        "claim": claim.name, "statement": claim.statement, "statistic": claim.statistic,
        "value": value, "ci_low": low, "ci_high": high, "n_seeds": len(seeds),
        "verdict": verdict(low, high, threshold, claim.side),
        "threshold": _threshold_text(claim.side, threshold), "test": claim.test,
        "p_value": p_value, "n_rows": len(rows), "note": claim.missing if np.isnan(value) else "",
        **dict(zip(("gate", "gate_note"), claim_gate(rows, gates), strict=True)),
    }  # fmt: skip


def evaluate_claims(frame: pd.DataFrame, settings: dict,
                    gates: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """One row per claim (CLAIM_COLUMNS) for the robustness rows in `frame`.

    `settings` is the config's `claims` section (k, k_correlation, thresholds, confidence,
    bootstrap, bootstrap_seed). Control perturbations (names.CONTROL_ATTACKS, e.g. noise)
    are not attacks and are left out.
    """
    frame = _attacks_only(frame)
    rng = np.random.default_rng(settings["bootstrap_seed"])
    rows_out = [evaluate_claim(c, c.select(frame, settings), frame, settings, rng, gates)
                for c in CLAIMS]  # fmt: skip
    return pd.DataFrame(rows_out, columns=CLAIM_COLUMNS)


def claims_by_n(frame: pd.DataFrame, settings: dict,
                gates: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """C5a at every number of posterior samples (the study: the correlation appears
    "especially as the number of samples increases"), one row per n."""
    rng = np.random.default_rng(settings["bootstrap_seed"])
    claim = next(c for c in CLAIMS if c.name == "C5a")
    frame = _attacks_only(frame)
    rows = bayesian(_c5_rows(frame, settings))
    table = [
        {**evaluate_claim(claim, rows[rows["n_samples"] == n], frame, settings, rng, gates),
         "n_samples": n}
        for n in sorted(rows["n_samples"].unique())
    ]  # fmt: skip
    return pd.DataFrame(table, columns=[*CLAIM_COLUMNS, "n_samples"])


def _slice_claims(part: pd.DataFrame, settings: dict, gates: pd.DataFrame | None,
                  with_n: bool) -> list[pd.DataFrame]:  # fmt: skip
    """The claims of one slice of the breakdown (and C5a at every n when `with_n`)."""
    frames = [evaluate_claims(part, settings, gates)]
    return frames + [claims_by_n(part, settings, gates)] if with_n else frames


def claim_rows(robustness: pd.DataFrame) -> pd.DataFrame:
    """The rows the claims read: the study's explainer (LRP), and the det nets' rows of the
    smoothing rival (beta-smoothed LRP) as the pseudo-family `SMOOTHED_DET` (claim C7;
    no other claim selects it)."""
    rival = robustness[(robustness["explainer"] == SMOOTHING_RIVAL)
                       & (robustness["inference"] == "det")]  # fmt: skip
    return pd.concat([study_rows(robustness), rival.assign(inference=SMOOTHED_DET)],
                     ignore_index=True)  # fmt: skip


def claims_breakdown(
    robustness: pd.DataFrame, settings: dict, gates: pd.DataFrame | None = None,
    workers: int = 1,
) -> pd.DataFrame:  # fmt: skip
    """Every claim on all datasets together and on each dataset, and (datasets pooled) on
    each attack when there are several, on all points and on the points the attack actually
    perturbed (columns `dataset`, `attack` ("all" = pooled), `subset`, `n_samples` first;
    `n_samples` is empty for the claims as defined, and set on the extra C5a rows that
    show the correlation at each n). The claims are the study's, about its explainer (LRP)
    and metric (top-k overlap at claims.k and claims.k_correlation): the rows of other
    explainers and metrics are left out. Slices are bootstrapped in `workers` processes;
    each draws from its own generator seeded by claims.bootstrap_seed, so the table does
    not depend on `workers`. The claims as defined (attack "all") are about the attacks on
    the label; the attacks on the explanation (names.EXPLANATION_ATTACKS) appear on their
    own and pooled as attack "explanation"."""
    robustness = topk_rows(claim_rows(robustness), [settings["k"], settings["k_correlation"]])
    explanation = robustness["attack"].isin(EXPLANATION_ATTACKS)
    label = robustness[~explanation]
    by_dataset = [(d, "all", label[label["dataset"] == d])
                  for d in sorted(label["dataset"].unique())]  # fmt: skip
    # Per attack (datasets pooled): a verdict the pooled claim owes to one attack shows here.
    attacks = sorted(_attacks_only(robustness)["attack"].unique())
    by_attack = [("all", a, robustness[robustness["attack"] == a]) for a in attacks]
    if explanation.any():
        by_attack.append(("all", "explanation", robustness[explanation]))
    slices, places = [], []
    for dataset, attack, rows in [("all", "all", label), *by_dataset,
                                  *(by_attack if len(attacks) > 1 else [])]:  # fmt: skip
        for subset in ("all", "perturbed"):
            part = rows if subset == "all" else rows[rows["perturbed"]]
            # C5a at every n: for the attacks pooled
            slices.append((part, settings, gates, attack == "all"))
            places.append({"dataset": dataset, "attack": attack, "subset": subset})
    if workers > 1:
        with ProcessPoolExecutor(min(workers, len(slices))) as pool:
            results = list(pool.map(_slice_claims, *zip(*slices, strict=True)))
    else:
        results = [_slice_claims(*arguments) for arguments in slices]
    frames = [f.assign(**where) for where, found in zip(places, results, strict=True)
              for f in found]  # fmt: skip
    table = pd.concat([f for f in frames if len(f)], ignore_index=True)
    if "n_samples" not in table:
        table["n_samples"] = np.nan
    return table[["dataset", "attack", "subset", "n_samples", *CLAIM_COLUMNS]]


def claims_by_explainer(robustness: pd.DataFrame, settings: dict,
                        gates: pd.DataFrame | None = None,
                        workers: int = 1) -> pd.DataFrame:  # fmt: skip
    """The claims as defined (attacks on the label pooled, every point) recomputed with
    each explainer's heatmaps in place of LRP's, one block of rows per explainer (column
    `explainer` first; LRP's rows are claims.csv's). Explainers run for the det nets only
    (beta-smoothed LRP) have no Bayesian rows to compare and are left out; C7 compares
    with beta-smoothed LRP in every block. Is the study's effect specific to epsilon-LRP?
    The blocks are bootstrapped in `workers` processes, each from a generator seeded by
    claims.bootstrap_seed, so the table does not depend on `workers`."""
    label = robustness[~robustness["attack"].isin(EXPLANATION_ATTACKS)]
    rivals = label[(label["explainer"] == SMOOTHING_RIVAL) & (label["inference"] == "det")]
    rivals = rivals.assign(inference=SMOOTHED_DET)
    ks = [settings["k"], settings["k_correlation"]]
    others = sorted(set(label["explainer"]) - {STUDY_EXPLAINER, *DET_ONLY_EXPLAINERS})
    explainers = [STUDY_EXPLAINER, *others]

    def block(explainer):  # its rows as if they were LRP's, beside the smoothing rival
        own = label[label["explainer"] == explainer].assign(explainer=STUDY_EXPLAINER)
        return topk_rows(pd.concat([own, rivals], ignore_index=True), ks)

    blocks = [block(e) for e in explainers]
    if workers > 1 and len(blocks) > 1:
        with ProcessPoolExecutor(min(workers, len(blocks))) as pool:
            results = list(pool.map(evaluate_claims, blocks, [settings] * len(blocks),
                                    [gates] * len(blocks)))  # fmt: skip
    else:
        results = [evaluate_claims(block, settings, gates) for block in blocks]
    table = pd.concat([r.assign(explainer=e) for e, r in zip(explainers, results, strict=True)],
                      ignore_index=True)  # fmt: skip
    return table[["explainer", *CLAIM_COLUMNS]]


def claims_table(breakdown: pd.DataFrame) -> pd.DataFrame:
    """DESIGN.md's claims.csv: one row per claim, datasets pooled, every point; the
    perturbed-points-only value, interval and verdict beside it."""
    pooled = breakdown[(breakdown["dataset"] == "all") & (breakdown["attack"] == "all")
                       & breakdown["n_samples"].isna()]  # fmt: skip
    main = pooled[pooled["subset"] == "all"].drop(columns=["dataset", "attack", "subset",
                                                           "n_samples"])  # fmt: skip
    perturbed = pooled[pooled["subset"] == "perturbed"].set_index("claim")
    extra = perturbed[["value", "ci_low", "ci_high", "verdict"]].add_suffix("_perturbed")
    return main.join(extra, on="claim").reset_index(drop=True)


COMPARISON_KEYS = ["dataset", "arch", "inference", "n_samples", "attack", "metric"]


def baseline_comparison(robustness: pd.DataFrame, baselines: pd.DataFrame) -> pd.DataFrame:
    """Median robustness at the output layer of LRP, of every other explainer run, and of
    each trivial explanation, per model, n, attack and metric (seeds and points pooled), on
    all points and perturbed points. A baseline that was also run as an explainer (gradient
    x input) appears once, as the explainer."""
    explained = at_output(robustness)
    baselines = baselines[~baselines["explainer"].isin(explained["explainer"].unique())]
    rows = pd.concat([explained, baselines], ignore_index=True)
    tables = []
    for subset, part in (("", rows), ("_perturbed", rows[rows["perturbed"].astype(bool)])):
        medians = part.groupby([*COMPARISON_KEYS, "explainer"])["explanation_robustness"].median()
        tables.append(medians.unstack("explainer").add_suffix(subset))
    table = tables[0].join(tables[1]).reset_index()
    others = [c for c in tables[0].columns if c != STUDY_EXPLAINER]
    table["beats_baselines"] = table[STUDY_EXPLAINER] > table[others].max(axis=1)
    table["beats_baselines_perturbed"] = table[f"{STUDY_EXPLAINER}_perturbed"] > table[
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
        bayes = bayesian(attacks[variant])
        unchanged = bayes["unchanged_fraction"].max() if len(bayes) else float("nan")
        frames.append(table.assign(
            variant=variant, changes="; ".join(_flatten(overrides[variant])) or "(none)",
            bayes_unchanged_max=unchanged,
        ))  # fmt: skip
    columns = ["variant", "changes", "claim", "statement", "value", "ci_low", "ci_high",
               "verdict", "value_perturbed", "ci_low_perturbed", "ci_high_perturbed",
               "verdict_perturbed", "bayes_unchanged_max", "n_seeds"]  # fmt: skip
    return pd.concat(frames, ignore_index=True)[columns]
