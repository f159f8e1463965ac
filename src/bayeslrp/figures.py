"""Figures of the study, drawn with plotnine from the tidy tables and heatmap tensors.

Heatmap figures put an image and its relevance side by side, which needs two colour
scales (grey for pixels, diverging for relevance); plotnine allows one fill scale per
plot, so those panels are coloured here and drawn with `scale_fill_identity`.
"""

from __future__ import annotations

import itertools

import matplotlib
import numpy as np
import pandas as pd
import torch
from matplotlib import colormaps, pyplot
from matplotlib.colors import to_hex
from plotnine import (
    aes,
    coord_equal,
    coord_flip,
    element_blank,
    element_text,
    facet_grid,
    facet_wrap,
    geom_boxplot,
    geom_histogram,
    geom_hline,
    geom_line,
    geom_point,
    geom_pointrange,
    geom_text,
    geom_tile,
    geom_vline,
    ggplot,
    labs,
    position_dodge,
    scale_color_manual,
    scale_fill_identity,
    scale_fill_manual,
    scale_linetype_manual,
    scale_shape_manual,
    scale_x_continuous,
    scale_x_log10,
    scale_y_continuous,
    scale_y_reverse,
    theme,
    theme_bw,
)

from bayeslrp import names
from bayeslrp.io import atomic_path
from bayeslrp.models import output_layer
from bayeslrp.topk import relevant_pixels, topk_membership

# One colour per registered attack, in names.ATTACKS order, so a new attack needs no edit here.
PALETTE = ("#4c9be8", "#e8804c", "#7f7f7f", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#bcbd22",
           "#17becf")
ATTACK_COLOURS = dict(zip(names.ATTACKS, PALETTE, strict=False))
# Line and marker per series of the accuracy figure ("clean", then every attack): plotnine's
# default linetype palette has four entries, a fifth series would draw with none. Lines
# repeat after four; the marker tells them apart.
SERIES = ("clean", *names.ATTACKS)
LINETYPES = dict(zip(SERIES, itertools.cycle(["solid", "dashed", "dotted", "dashdot"])))
SHAPES = dict(zip(SERIES, itertools.cycle(["o", "s", "^", "D", "v", "P", "X", "*"])))
VERDICT_COLOURS = {"supported": "#2b8a3e", "not supported": "#c92a2a", "inconclusive": "#868e96"}
BLANK = "#f1f3f5"


def ordered(values: pd.Series, order_by: pd.DataFrame) -> pd.Categorical:
    """`values` as a categorical whose levels follow the rows of `order_by` (sorted)."""
    levels = values.loc[order_by.sort_values(list(order_by.columns)).index].unique()
    return pd.Categorical(values, categories=levels, ordered=True)


def model_label(frame: pd.DataFrame) -> pd.Categorical:
    """`fc det` for single nets, `fc vi n=10` for sampled ones, in a natural order."""
    base = frame["arch"] + " " + frame["inference"]
    sampled = ~frame["inference"].isin(names.SINGLE_NETWORK_INFERENCES)
    label = base.where(~sampled, base + " n=" + frame["n_samples"].astype(str))
    order = frame[["arch", "n_samples"]].assign(sampled=sampled)
    return ordered(label, order[["arch", "sampled", "n_samples"]])


def layer_label(frame: pd.DataFrame) -> pd.Categorical:
    """`layer 3` / `layer 5 (output)`, input side first."""
    output = frame["layer"] == frame["arch"].map(output_layer)
    label = "layer " + frame["layer"].astype(str) + output.map({True: " (output)", False: ""})
    return ordered(label, frame[["layer"]])


def _k_label(frame: pd.DataFrame) -> pd.Categorical:
    return ordered("k = " + frame["k"].astype(str), frame[["k"]])


def save(plot: ggplot, *paths: str, dpi: int = 150) -> None:
    """Write a figure to each path (format from the extension), atomically. Drawn once for
    all paths: plotnine's `save` draws the plot anew for every file, and drawing is most
    of a figure's time (a PNG is byte for byte plotnine's, tests/test_figures.py)."""
    view = plot.save_helper(dpi=dpi, verbose=False)
    try:
        with matplotlib.rc_context(plot.theme.rcParams):
            for path in paths:
                with atomic_path(path) as tmp:
                    view.figure.savefig(tmp, format=path.rsplit(".", 1)[1], dpi=dpi)
    finally:
        pyplot.close(view.figure)


# --- heatmaps -----------------------------------------------------------------------------


def grey_colours(image: np.ndarray) -> np.ndarray:
    """Pixel intensities in [0, 1] as hex colours, white background, black ink."""
    cmap = colormaps["Greys"]
    return np.array([to_hex(cmap(v)) for v in np.clip(image.ravel(), 0, 1)]).reshape(image.shape)


def relevance_colours(heat: np.ndarray, k: int | None = None, mode: str = "signed") -> np.ndarray:
    """Relevance as diverging colours (red positive, blue negative), scaled to the panel's
    largest |relevance|; with `k`, only the top-k pixels are coloured, the rest blank."""
    cmap = colormaps["RdBu_r"]
    scale = np.abs(heat).max() or 1.0
    colours = np.array([to_hex(cmap(0.5 + 0.5 * v / scale)) for v in heat.ravel()])
    if k is not None:
        colours[~top_pixels(heat, k, mode).ravel()] = BLANK
    return colours.reshape(heat.shape)


def top_pixels(heat: np.ndarray, k: int, mode: str = "signed") -> np.ndarray:
    """Boolean mask of the top-ranked pixels of one heatmap (same rule as the metric): the
    pixels with a share in the top-k (`topk_membership`) that carry relevance of the ranked
    kind, so a heatmap with fewer than k relevant pixels shows fewer than k, never a zero
    plateau; pixels tied at the k-th value are all shown."""
    flat = torch.from_numpy(heat).reshape(1, -1)
    keep = (topk_membership(flat, k, mode) > 0) & relevant_pixels(flat, mode)
    return keep[0].numpy().reshape(heat.shape)


def panel_tiles(panels: list[dict]) -> pd.DataFrame:
    """Long tile table from panels {"row", "col", "colours": [28, 28] hex}."""
    frames = []
    for panel in panels:
        height, width = panel["colours"].shape
        y, x = np.mgrid[0:height, 0:width]
        frames.append(pd.DataFrame({"row": panel["row"], "col": panel["col"], "x": x.ravel(),
                                    "y": y.ravel(), "fill": panel["colours"].ravel()}))  # fmt: skip
    tiles = pd.concat(frames, ignore_index=True)
    for key in ("row", "col"):  # panels in the order given
        tiles[key] = pd.Categorical(
            tiles[key], categories=list(dict.fromkeys(p[key] for p in panels))
        )
    return tiles


def tile_figure(panels: list[dict], title: str, width_per_col: float = 1.9) -> ggplot:
    """Images and heatmaps on a grid of panels (rows x columns)."""
    tiles = panel_tiles(panels)
    n_rows, n_cols = tiles["row"].nunique(), tiles["col"].nunique()
    return (
        ggplot(tiles, aes("x", "y", fill="fill"))
        + geom_tile()
        + scale_fill_identity()
        + scale_y_reverse()
        + coord_equal()
        + facet_grid("row ~ col")
        + labs(title=title, x="", y="")
        + theme_bw()
        + theme(figure_size=(1.2 + width_per_col * n_cols, 0.9 + 1.9 * n_rows),
                axis_text=element_blank(), axis_ticks=element_blank(),
                panel_grid=element_blank(), strip_text_y=element_text(size=7),
                strip_text_x=element_text(size=8), plot_title=element_text(size=9))
    )  # fmt: skip


def select(frame: pd.DataFrame, **values) -> pd.DataFrame:
    """Rows whose columns equal `values`."""
    keep = np.ones(len(frame), bool)
    for column, value in values.items():
        keep &= (frame[column] == value).to_numpy()
    return frame[keep]


def example_point(robustness: pd.DataFrame, selections: list[dict]) -> tuple[int, str]:
    """The test point a heatmap figure shows, and why: the first point where the attack
    failed against every selected net (the paper's Fig 1 case), else against the first,
    else point 0."""
    failed = [set(select(robustness, **s).query("not attack_success")["point"]) for s in selections]
    if both := set.intersection(*failed):
        return min(both), "attack failed on every net shown"
    if failed[0]:
        return min(failed[0]), "attack failed on the first net only"
    return 0, "the attack succeeded on every point"


def clean_vs_adversarial(examples: list[dict], k: int, mode: str, title: str) -> ggplot:
    """Fig 1: per example (a net and a test point), the image, its top-k LRP pixels, the
    adversarial image and its top-k LRP pixels. Example keys: name, image, adversarial,
    clean_heat, adv_heat (2-D arrays) and robustness."""
    panels = []
    for ex in examples:
        row = f"{ex['name']}\nrobustness {ex['robustness']:.2f}"
        panels += [
            {"row": row, "col": "image", "colours": grey_colours(ex["image"])},
            {"row": row, "col": f"LRP, top {k}",
             "colours": relevance_colours(ex["clean_heat"], k, mode)},
            {"row": row, "col": "adversarial", "colours": grey_colours(ex["adversarial"])},
            {"row": row, "col": f"LRP adversarial, top {k}",
             "colours": relevance_colours(ex["adv_heat"], k, mode)},
        ]  # fmt: skip
    return tile_figure(panels, title)


def spread_colours(std: np.ndarray, scale: float) -> np.ndarray:
    """Per-pixel posterior std as white-to-purple colours; `scale` (the mean heatmap's
    largest |relevance|) is full purple, so a std panel reads against its mean's panel."""
    cmap = colormaps["Purples"]
    levels = np.clip(std.ravel() / (scale or 1.0), 0, 1)
    return np.array([to_hex(cmap(v)) for v in levels]).reshape(std.shape)


def heatmap_uncertainty(examples: list[dict], title: str) -> ggplot:
    """Per example (a net and a test point): the image, the mean heatmap over the net's
    draws and their per-pixel std on the mean's scale. Example keys: name, image, mean, std
    (2-D arrays), relative_spread."""
    panels = []
    for ex in examples:
        row = f"{ex['name']}\nspread {ex['relative_spread']:.2f}"
        scale = float(np.abs(ex["mean"]).max())
        panels += [
            {"row": row, "col": "image", "colours": grey_colours(ex["image"])},
            {"row": row, "col": "mean LRP", "colours": relevance_colours(ex["mean"])},
            {"row": row, "col": "posterior std", "colours": spread_colours(ex["std"], scale)},
        ]  # fmt: skip
    return tile_figure(panels, title)


def topk_overlap(image, clean, adversarial, k: int, mode: str, title: str) -> ggplot:
    """Fig 2: the top-k pixels of a clean and an adversarial heatmap and their overlap,
    over a faint copy of the image (blue: clean only, orange: adversarial only, purple: both)."""
    a, b = top_pixels(clean, k, mode), top_pixels(adversarial, k, mode)
    faint = grey_colours(0.25 * image)
    only_clean, only_adv, both = faint.copy(), faint.copy(), faint.copy()
    only_clean[a] = "#1c7ed6"
    only_adv[b] = "#f08c00"
    both[a & ~b], both[b & ~a], both[a & b] = "#1c7ed6", "#f08c00", "#6741d9"
    row = f"overlap {int((a & b).sum())} of {k} = {(a & b).sum() / k:.2f}"
    panels = [
        {"row": row, "col": "image", "colours": grey_colours(image)},
        {"row": row, "col": f"top {k}, clean", "colours": only_clean},
        {"row": row, "col": f"top {k}, adversarial", "colours": only_adv},
        {"row": row, "col": "overlap (purple)", "colours": both},
    ]
    return tile_figure(panels, title)


def inner_layers(image, adversarial, heats: dict[str, tuple], title: str) -> ggplot:
    """Fig 3: full heatmaps of every explained layer, clean and adversarial, each panel
    scaled to its own largest |relevance| (red positive, blue negative)."""
    panels = []
    for layer, (clean, adv) in heats.items():
        panels += [
            {"row": layer, "col": "image", "colours": grey_colours(image)},
            {"row": layer, "col": "LRP clean", "colours": relevance_colours(clean)},
            {"row": layer, "col": "adversarial", "colours": grey_colours(adversarial)},
            {"row": layer, "col": "LRP adversarial", "colours": relevance_colours(adv)},
        ]
    return tile_figure(panels, title)


# --- robustness distributions and correlations ----------------------------------------------


def robustness_by_layer(robustness: pd.DataFrame, title: str) -> ggplot:
    """Figs 4-7: LRP robustness per test point; rows = layer, columns = k, x = det and
    each n of the Bayesian net, one box per attack. Above each model: the share of points
    whose top-k is undefined (fewer than k relevant pixels; left out of the boxes)."""
    frame = robustness.assign(model=model_label(robustness), layer_name=layer_label(robustness),
                              panel_k=_k_label(robustness))  # fmt: skip
    n_models, n_k = frame["model"].nunique(), frame["k"].nunique()
    undefined = (
        frame.assign(nan=frame["explanation_robustness"].isna())
        .groupby(["layer_name", "panel_k", "model"], observed=True, as_index=False)["nan"]
        .mean()
    )
    undefined["label"] = undefined["nan"].map(lambda f: f"u {f:.0%}")
    undefined["y"] = 1.07
    return (
        ggplot(frame.dropna(subset=["explanation_robustness"]),
               aes("model", "explanation_robustness"))
        + geom_boxplot(aes(fill="attack"), position=position_dodge(width=0.8), width=0.7,
                       outlier_size=0.5)  # fmt: skip
        + geom_text(undefined, aes("model", "y", label="label"), size=6, color="#555555")
        + facet_grid("layer_name ~ panel_k")
        + scale_y_continuous(limits=(0, 1.1), breaks=[0, 0.25, 0.5, 0.75, 1])
        + scale_fill_manual(values=ATTACK_COLOURS)
        + labs(x="", y="LRP robustness (top-k overlap)", fill="attack", title=title)
        + theme_bw()
        + theme(figure_size=(2.0 + 0.7 * n_models * n_k, 1.2 + 1.9 * frame["layer"].nunique()),
                legend_position="bottom", axis_text_x=element_text(rotation=30, ha="right"),
                plot_title=element_text(size=9))
    )  # fmt: skip


def spearman_by_panel(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Spearman correlation of LRP and softmax robustness per panel, as a text label."""
    rows = []
    for values, group in frame.groupby(keys, observed=True):
        rho = group["explanation_robustness"].corr(group["softmax_robustness"], method="spearman")
        label = "rho = n/a" if np.isnan(rho) else f"rho = {rho:.2f}"
        rows.append({**dict(zip(keys, values, strict=True)), "label": label})
    labels = pd.DataFrame(rows)
    for key in keys:  # keep the panels' order (a plain string column would sort them)
        labels[key] = labels[key].astype(frame[key].dtype)
    return labels


def lrp_vs_softmax(robustness: pd.DataFrame, title: str) -> ggplot:
    """Figs 8-9: LRP robustness against softmax robustness per test point; rows = layer,
    columns = det and each n; Spearman's rho in each panel."""
    frame = robustness.assign(model=model_label(robustness), layer_name=layer_label(robustness))
    rho = spearman_by_panel(frame, ["layer_name", "model"])
    n_models = frame["model"].nunique()
    return (
        ggplot(frame, aes("softmax_robustness", "explanation_robustness"))
        + geom_point(aes(color="attack"), alpha=0.35, size=0.8)
        + geom_text(rho, aes(label="label"), x=0.02, y=1.08, ha="left", size=7, inherit_aes=False)
        + facet_grid("layer_name ~ model")
        + scale_x_continuous(limits=(0, 1), breaks=[0, 0.5, 1])
        + scale_y_continuous(limits=(0, 1.12), breaks=[0, 0.5, 1])
        + scale_color_manual(values=ATTACK_COLOURS)
        + labs(x="softmax robustness", y="LRP robustness", color="attack", title=title)
        + theme_bw()
        + theme(figure_size=(1.5 + 2.0 * n_models, 1.2 + 1.9 * frame["layer"].nunique()),
                legend_position="bottom", plot_title=element_text(size=9))
    )  # fmt: skip


# --- diagnostics and claims -------------------------------------------------------------------


def accuracy_and_success(accuracy: pd.DataFrame, attacks: pd.DataFrame) -> ggplot:
    """Test accuracy and attack success rate against the number of posterior samples."""
    acc = accuracy.assign(value=accuracy["test_accuracy"], measure="test accuracy", attack="clean")
    success = attacks.assign(value=attacks["success_rate"], measure="attack success rate")
    frame = pd.concat([acc, success], ignore_index=True)
    model = frame["arch"] + " " + frame["inference"]
    frame = frame.assign(model=model, series=model + ", " + frame["attack"])
    summary = frame.groupby(["dataset", "measure", "model", "series", "attack", "n_samples"],
                            as_index=False)["value"].mean()  # fmt: skip
    ns = sorted(summary["n_samples"].unique())
    # a run of single networks has n = 1 alone: one break, from which no minor breaks
    single = {"limits": (ns[0] / 2, ns[0] * 2), "minor_breaks": []} if len(ns) == 1 else {}
    return (
        ggplot(summary, aes("n_samples", "value", color="model", group="series"))
        + geom_line(aes(linetype="attack"))
        + geom_point(aes(shape="attack"), size=2)
        + facet_grid("measure ~ dataset", scales="free_y")
        + scale_x_log10(breaks=ns, **single)
        + scale_linetype_manual(values=LINETYPES)
        + scale_shape_manual(values=SHAPES)
        + labs(x="posterior samples n (det: n = 1)", y="", color="model", linetype="",
               shape="", title="Accuracy and attack success vs posterior samples (mean over seeds)")
        + theme_bw()
        + theme(figure_size=(3.0 + 2.6 * summary["dataset"].nunique(), 5.2),
                plot_title=element_text(size=9))
    )  # fmt: skip


POSTERIOR_STATISTICS = {
    "acceptance_rate": "HMC acceptance rate",
    "ess_min": "HMC min ESS",
    "rhat_max": "HMC max R-hat",
    "divergences": "HMC divergences",
    "elbo_final": "VI final ELBO",
    "std_mean": "posterior std (mean)",
    "weight_abs_mean": "mean |w| (det too)",
}


def epsilon_sweep(table: pd.DataFrame) -> ggplot:
    """Adversarial accuracy against the L-inf radius per model (one line per seed), per
    dataset; a working attack drives every model to 0 at epsilon = 1."""
    frame = table.assign(model=table["arch"] + " " + table["inference"] + " n="
                         + table["n_samples"].astype(str),
                         run=lambda f: f["model"] + " seed " + f["seed"].astype(str))  # fmt: skip
    attack = ", ".join(sorted(frame["attack"].unique()))
    return (
        ggplot(frame, aes("epsilon", "adversarial_accuracy", color="model", group="run"))
        + geom_line()
        + geom_point(size=1.5)
        + facet_wrap("dataset")
        + scale_y_continuous(limits=(0, 1))
        + labs(x="L-inf radius epsilon", y="adversarial accuracy", color="",
               title=f"{attack} against the radius (masked: still accurate at the largest)")
        + theme_bw()
        + theme(figure_size=(3.5 + 3.0 * frame["dataset"].nunique(), 3.6),
                plot_title=element_text(size=9))
    )  # fmt: skip


def posterior_diagnostics(posterior: pd.DataFrame) -> ggplot:
    """Posterior diagnostics per model: HMC mixing, VI ELBO, posterior std per layer."""
    frame = posterior[posterior["statistic"].isin(POSTERIOR_STATISTICS)].copy()
    frame["statistic"] = frame["statistic"].map(POSTERIOR_STATISTICS)
    frame["layer"] = frame["layer"].map(lambda v: "whole net" if pd.isna(v) else f"layer {int(v)}")
    frame["model"] = frame["dataset"] + " " + frame["arch"] + " " + frame["inference"]
    frame = frame.groupby(["statistic", "model", "layer"], as_index=False)["value"].mean()
    return (
        ggplot(frame, aes("model", "value", color="layer"))
        + geom_point(size=2.5, position=position_dodge(width=0.5))
        + coord_flip()
        + facet_wrap("statistic", scales="free", ncol=3)
        + labs(x="", y="", color="layer", title="Posterior diagnostics (mean over seeds)")
        + theme_bw()
        + theme(figure_size=(12, 2.2 + 0.35 * frame["model"].nunique() * 3),
                subplots_adjust={"wspace": 0.6, "hspace": 0.35}, plot_title=element_text(size=9),
                axis_text_x=element_text(size=7))
    )  # fmt: skip


def convergence_figure(points: pd.DataFrame, trace: pd.DataFrame) -> list[ggplot]:
    """MCMC convergence in function space: the distribution of per-point split R-hat of
    p(true class | x) per posterior (dashed: the 1.1 threshold), and the traces of p(true
    class) per chain at the points of lowest, median, 90th-percentile and highest R-hat.
    `points` and `trace` carry `dataset`, `model` and `seed` columns."""
    rhat = points.dropna(subset=["rhat"]).copy()
    rhat["posterior"] = rhat["dataset"] + " " + rhat["model"] + " seed " + rhat["seed"].astype(str)
    histogram = (
        ggplot(rhat, aes("rhat"))
        + geom_histogram(bins=40, fill="#4c72b0")
        + geom_vline(xintercept=1.1, linetype="dashed", color="#c44e52")
        + facet_wrap("posterior", scales="free_y")
        + scale_x_log10()
        + labs(x="split R-hat of p(true class | x) per test point (log scale)", y="points",
               title="Did the chains agree? Function-space R-hat per test point "
                     "(dashed: 1.1)")
        + theme_bw()
        + theme(figure_size=(9, 3.2 + 1.6 * (rhat["posterior"].nunique() // 3)),
                plot_title=element_text(size=9), strip_text=element_text(size=7))
    )  # fmt: skip
    trace = trace.copy()
    trace["posterior"] = (trace["dataset"] + " " + trace["model"] + " seed "
                          + trace["seed"].astype(str))  # fmt: skip
    trace["where"] = "point " + trace["point"].astype(str) + ", R-hat " + trace["rhat"].map(
        "{:.2f}".format
    )
    trace["chain"] = trace["chain"].astype(str)
    traces = (
        ggplot(trace, aes("draw", "p_true", color="chain"))
        + geom_line()
        + facet_wrap(["posterior", "where"], ncol=4)
        + labs(x="draw (within its chain)", y="p(true class | x)", color="chain",
               title="Traces of the predictive probability per chain, at the points of "
                     "lowest, median, 90th-percentile and highest R-hat")
        + theme_bw()
        + theme(figure_size=(11, 1.2 + 2.0 * max(1, trace["posterior"].nunique())),
                plot_title=element_text(size=9), strip_text=element_text(size=6))
    )  # fmt: skip
    return [histogram, traces]


def claims_figure(breakdown: pd.DataFrame) -> ggplot:
    """Each claim's statistic with its interval, on all points and perturbed points only,
    per dataset and per attack; the dashed line is the verdict threshold."""
    frame = breakdown.dropna(subset=["value"]).copy()
    frame["threshold_value"] = frame["threshold"].str.extract(r"([-0-9.eE]+)$")[0].astype(float)
    frame["panel"] = frame["claim"] + ": " + frame["statement"].str.wrap(38)
    at_n = frame["n_samples"].map(lambda n: "" if pd.isna(n) else f" n={int(n)}")
    by_attack = frame["attack"].map(lambda a: "" if a == "all" else f" {a}")
    frame["where"] = frame["dataset"] + by_attack + " / " + frame["subset"] + at_n
    thresholds = frame.drop_duplicates("panel")
    within = thresholds[thresholds["threshold"].str.startswith("within")]
    thresholds = pd.concat([thresholds, within.assign(threshold_value=-within["threshold_value"])])
    return (
        ggplot(frame, aes("where", "value", ymin="ci_low", ymax="ci_high", color="verdict"))
        + geom_hline(thresholds, aes(yintercept="threshold_value"), linetype="dashed")
        + geom_pointrange()
        + facet_wrap("panel", scales="free_y", ncol=3)
        + scale_color_manual(values=VERDICT_COLOURS)
        + labs(x="datasets / points", y="statistic (bootstrap interval)", color="verdict",
               title="Claims: statistic, interval and verdict")
        + theme_bw()
        + theme(figure_size=(11, 7), axis_text_x=element_text(rotation=30, ha="right"),
                strip_text=element_text(size=7), subplots_adjust={"wspace": 0.3, "hspace": 0.7},
                plot_title=element_text(size=9), legend_position="bottom")
    )  # fmt: skip


def sensitivity_figure(table: pd.DataFrame) -> ggplot:
    """Each claim's statistic and interval under every sensitivity variant (all points,
    and perturbed points only), coloured by verdict."""
    parts = []
    for suffix, points in (("", "all points"), ("_perturbed", "perturbed points")):
        part = table[["variant", "claim", "statement"]].assign(
            value=table[f"value{suffix}"], ci_low=table[f"ci_low{suffix}"],
            ci_high=table[f"ci_high{suffix}"], verdict=table[f"verdict{suffix}"], points=points,
        )  # fmt: skip
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True).dropna(subset=["value"])
    frame["panel"] = frame["claim"] + ": " + frame["statement"].str.wrap(38)
    n_variants = frame["variant"].nunique()
    return (
        ggplot(frame, aes("variant", "value", ymin="ci_low", ymax="ci_high", color="verdict",
                          shape="points"))
        + geom_pointrange(position=position_dodge(width=0.5))
        + facet_wrap("panel", scales="free_y", ncol=3)
        + scale_color_manual(values=VERDICT_COLOURS)
        + labs(x="variant", y="statistic (bootstrap interval)", color="verdict", shape="",
               title="Sensitivity of the claims to the study's open choices")
        + theme_bw()
        + theme(figure_size=(max(11, 1.0 * n_variants * 3), 7),
                axis_text_x=element_text(rotation=35, ha="right", size=7),
                strip_text=element_text(size=7), subplots_adjust={"wspace": 0.3, "hspace": 0.8},
                plot_title=element_text(size=9), legend_position="bottom")
    )  # fmt: skip


# --- geometry -------------------------------------------------------------------------------


def geometry_figure(summary: pd.DataFrame) -> ggplot:
    """The study's mechanism measured (geometry_claims.summarise): median normal fraction
    (quartiles as bars) against the number of averaged draws per family, one panel per
    dataset and quantity; dashed: a random direction's."""
    data = summary.assign(model=summary["arch"] + "_" + summary["inference"],
                          panel=summary["dataset"] + ", " + summary["quantity"])  # fmt: skip
    random = data.groupby("panel", as_index=False)["random_median"].median()
    return medians_against_n(
        data, "normal fraction (median over points)",
        "How much of the explanation points off the data manifold? (dashed: a random "
        "direction)", geom_hline(random, aes(yintercept="random_median"), linetype="dashed"),
    )  # fmt: skip


def medians_against_n(data: pd.DataFrame, ylabel: str, title: str, reference=None,
                      scales: str = "fixed") -> ggplot:  # fmt: skip
    """A probe's medians (quartiles as bars; columns median, q25, q75) against the number
    of averaged draws (log scale; single nets at 1), a line per `model`, a panel per
    `panel`, with an optional `reference` layer (e.g. a dashed line)."""
    plot = (
        ggplot(data, aes("n_samples", "median", color="model"))
        + geom_line()
        + geom_pointrange(aes(ymin="q25", ymax="q75"), size=0.3)
    )
    if reference is not None:
        plot = plot + reference
    return (
        plot
        + facet_wrap("panel", ncol=2, scales=scales)
        + scale_x_log10()
        + labs(x="draws averaged (log scale; single nets at 1)", y=ylabel, color="model",
               title=title)
        + theme_bw()
        + theme(figure_size=(9, 3 + 2.5 * ((data["panel"].nunique() + 1) // 2)),
                plot_title=element_text(size=9))
    )  # fmt: skip


def stability_figure(summary: pd.DataFrame) -> ggplot:
    """Gradient-free stability (paired_claims.summarise of stability.py's rows): median
    max-sensitivity against the number of averaged draws per model, one panel per dataset
    and explainer."""
    return medians_against_n(
        _probe_panels(summary, "max_sensitivity"), "max-sensitivity (median over points)",
        "How far does the explanation move under random noise of the attacks' radius? "
        "(lower is steadier)", scales="free_y",
    )  # fmt: skip


def _probe_panels(summary: pd.DataFrame, metric: str) -> pd.DataFrame:
    """One metric's rows of a probe summary with `model` and `panel` (dataset, explainer)."""
    data = summary[summary["metric"] == metric]
    return data.assign(model=data["arch"] + "_" + data["inference"],
                       panel=data["dataset"] + ", " + data["explainer"])  # fmt: skip


def faithfulness_figure(summary: pd.DataFrame) -> ggplot:
    """Pixel-flipping faithfulness (paired_claims.summarise of faithfulness.py's rows):
    median against the number of averaged draws per model, one panel per dataset and
    explainer; dashed: 0, an explanation unrelated to the model."""
    return medians_against_n(
        _probe_panels(summary, "faithfulness"), "faithfulness (median over points)",
        "Does removing the most relevant pixels hurt more than removing random ones? "
        "(higher is more faithful)", geom_hline(yintercept=0, linetype="dashed"),
        scales="free_y",
    )  # fmt: skip
