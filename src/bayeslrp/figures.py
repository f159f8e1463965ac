"""Figures of the study, drawn with plotnine from the tidy tables."""

from __future__ import annotations

import pandas as pd
from plotnine import (
    aes,
    element_text,
    facet_grid,
    geom_boxplot,
    ggplot,
    labs,
    position_dodge,
    scale_fill_manual,
    scale_y_continuous,
    theme,
    theme_bw,
)

from bayeslrp.models import output_layer


def ordered(values: pd.Series, order_by: pd.DataFrame) -> pd.Categorical:
    """`values` as a categorical whose levels follow the rows of `order_by` (sorted)."""
    levels = values.loc[order_by.sort_values(list(order_by.columns)).index].unique()
    return pd.Categorical(values, categories=levels, ordered=True)


def model_label(frame: pd.DataFrame) -> pd.Categorical:
    """`fc det` for deterministic nets, `fc vi n=10` for Bayesian ones, in a natural order."""
    base = frame["arch"] + " " + frame["inference"]
    bayes = frame["inference"] != "det"
    label = base.where(~bayes, base + " n=" + frame["n_samples"].astype(str))
    return ordered(
        label, frame[["arch", "n_samples"]].assign(bayes=bayes)[["arch", "bayes", "n_samples"]]
    )


def robustness_distributions(robustness: pd.DataFrame) -> ggplot:
    """LRP robustness at the output layer per test point, by model and attack outcome."""
    at_output = robustness["layer"] == robustness["arch"].map(output_layer)
    frame = robustness[at_output]
    frame = frame.assign(
        model=model_label(frame),
        outcome=frame["attack_success"].map({True: "attack succeeded", False: "attack failed"}),
        panel_k=ordered("k = " + frame["k"].astype(str), frame[["k"]]),
        panel_data=frame["dataset"] + ", " + frame["attack"],
    )
    return (
        ggplot(frame, aes("model", "lrp_robustness", fill="outcome"))
        + geom_boxplot(position=position_dodge(width=0.8), width=0.7, outlier_size=0.6)
        + facet_grid("panel_data ~ panel_k", scales="free_x")
        + scale_y_continuous(limits=(0, 1))
        + scale_fill_manual(values={"attack failed": "#4c9be8", "attack succeeded": "#e8804c"})
        + labs(
            x="model",
            y="LRP robustness (top-k overlap)",
            fill="",
            title="Top-k overlap of clean and adversarial LRP heatmaps per test point",
        )
        + theme_bw()
        + theme(figure_size=(3.5 + 0.35 * frame["model"].nunique() * frame["k"].nunique(),
                             2.6 * frame["panel_data"].nunique() + 1.8),
                legend_position="bottom",
                axis_text_x=element_text(rotation=45, ha="right"))
    )  # fmt: skip
