"""The report's first page as text: a plain-language answer to "is the Bayesian robustness
real?" and the verdict on every claim, from the tables `claims.py` computes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayeslrp.claims import VERDICTS
from bayeslrp.names import (
    AVERAGING_CONTROLS,
    BAYESIAN_INFERENCES,
    EXPLANATION_ATTACKS,
    SINGLE_NETWORK_INFERENCES,
    STUDY_EXPLAINER,
    topk_label,
)


def _interval(value: float, low: float, high: float) -> str:
    if np.isnan(value):
        return "n/a"
    return f"{value:.3f} [{low:.3f}, {high:.3f}]"


def plain_answer(
    claims: pd.DataFrame,
    comparison: pd.DataFrame,
    attacks: pd.DataFrame,
    sensitivity: pd.DataFrame | None,
    masking: pd.DataFrame | None = None,
) -> list[str]:
    """Bullet points answering "is the Bayesian robustness real?" from this run's numbers."""
    by_claim = claims.set_index("claim")
    c2 = by_claim.loc["C2"]
    moved = _interval(c2.value_perturbed, c2.ci_low_perturbed, c2.ci_high_perturbed)
    lines = [f"- Claim C2 (Bayesian pre-softmax LRP robustness close to 1) is **{c2.verdict}** "
             f"in this run: {_interval(c2.value, c2.ci_low, c2.ci_high)}; on the points the "
             f"attack actually moved: **{c2.verdict_perturbed}**, {moved}."]  # fmt: skip
    matched = by_claim.loc["C2m"] if "C2m" in by_claim.index else None
    if matched is not None and not np.isnan(matched.value):
        lines.append(f"- At matched attack strength (C2m: points compared within quintiles of "
                     f"softmax robustness), Bayesian minus deterministic LRP robustness is "
                     f"{_interval(matched.value, matched.ci_low, matched.ci_high)}: "
                     f"**{matched.verdict}**.")  # fmt: skip
    if masking is not None and len(masking):
        flagged = masking[masking["verdict"] == "flagged"]
        models = flagged[["dataset", "arch", "inference", "seed"]].drop_duplicates()
        names = sorted({f"{r.arch}_{r.inference}" for r in models.itertuples()})
        lines.append(f"- Gradient-masking checks (masking.csv): {len(flagged)} of "
                     f"{(masking['verdict'] != 'not applicable').sum()} checks flagged"
                     + (f", on {', '.join(names)}." if names else "."))  # fmt: skip
    bayes = attacks[attacks["inference"].isin(BAYESIAN_INFERENCES)]
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
    top = comparison[comparison["inference"].isin(BAYESIAN_INFERENCES)]
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
    unmatched = matched is not None and matched.verdict == "not supported"
    if c2.verdict == "supported" and unmatched:
        answer = ("no: at matched attack strength the Bayesian explanations are no more "
                  "robust than the deterministic ones; the gap at equal epsilon is the attack "
                  "moving the Bayesian predictions less.")  # fmt: skip
    elif c2.verdict == "supported" and c2.verdict_perturbed == "supported" and beats:
        answer = ("yes, in this run: the robustness holds on inputs the attack moved and "
                  "beats trivial explanations.")  # fmt: skip
    elif c2.verdict == "supported" and c2.verdict_perturbed != "supported":
        answer = ("no: the high robustness rests on inputs the attack left unchanged "
                  "(gradient masking), not on stable explanations.")  # fmt: skip
    elif c2.verdict == "not supported":
        answer = "no: Bayesian LRP robustness is not close to 1 in this run."
    else:
        answer = "not settled by this run (see the intervals and the sensitivity study)."
    return [f"**Is the Bayesian robustness real?** Short answer: {answer}", "",
            *gate_lines(claims), *lines]  # fmt: skip


def explanation_attack_lines(breakdown: pd.DataFrame, attacks: pd.DataFrame) -> list[str]:
    """Plain words for the attacks on the explanation (names.EXPLANATION_ATTACKS): what
    each did per family at its largest n, and the claims on them pooled (the breakdown's
    attack "explanation"): Bayesian against deterministic (C2m) and against beta-smoothed
    (C7) explanations. Empty when the run has none."""
    rows = attacks[attacks["attack"].isin(EXPLANATION_ATTACKS)]
    if not len(rows):
        return []
    largest = rows.groupby(["dataset", "arch", "inference", "seed", "attack"])["n_samples"]
    rows = rows[rows["n_samples"] == largest.transform("max")]
    lines = ["Attacks on the explanation", "-" * 26, "",
             "The top-k attack (Ghorbani et al. 2019) and the targeted manipulation "
             "(Dombrowski et al. 2019) move the output layer's mean LRP heatmap and keep the "
             "prediction. Their objective (top-k: share of relevance on the clean top-k "
             "pixels; manipulation: distance to another point's heatmap, 1 at the start) at "
             "the clean points and after the attack, mean over points, datasets and seeds, "
             "each family at its largest n:", ""]  # fmt: skip
    summary = rows.groupby(["attack", "arch", "inference"], sort=True).agg(
        start=("explanation_objective_start", "mean"), end=("explanation_objective_end", "mean"),
        kept=("success_rate", lambda v: 1 - v.mean()))  # fmt: skip
    for (attack, arch, inference), row in summary.iterrows():
        lines.append(f"- {attack}, {arch}_{inference}: {row.start:.3f} -> {row.end:.3f}, "
                     f"prediction kept on {row.kept:.0%} of the points")  # fmt: skip
    pooled = breakdown[(breakdown["attack"] == "explanation") & (breakdown["dataset"] == "all")
                       & (breakdown["subset"] == "all") & breakdown["n_samples"].isna()]
    by_claim = pooled.set_index("claim")
    lines.append("")
    for claim, question in (("C2m", "more stable than the deterministic net's"),
                            ("C7", "more stable than the deterministic net's beta-smoothed "
                                   "LRP")):  # fmt: skip
        if claim in by_claim.index:
            row = by_claim.loc[claim]
            lines.append(f"- Under these attacks, are Bayesian explanations {question}? "
                         f"{claim}: {_interval(row.value, row.ci_low, row.ci_high)}, "
                         f"**{row.verdict}** (claims_breakdown.csv, attack explanation).")
    return [*lines, ""]


def probe_claim_lines(claims: pd.DataFrame) -> list[str]:
    """One line per claim of a probe's claims table: the question, value, interval, verdict."""
    lines = []
    for row in claims.itertuples():
        note = " (rests on a posterior that failed its gates)" if row.gate == "failed" else ""
        lines.append(f"- {row.claim}: {row.statement}? "
                     f"{_interval(row.value, row.ci_low, row.ci_high)}, "
                     f"**{row.verdict}**{note} (threshold {row.threshold}).")
    return lines


def geometry_lines(claims: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """Plain words for the geometry probe (geometry.py): the claims C8 and the normal
    fraction of the input gradient per family, at one draw and at its largest n."""
    lines = ["The study's mechanism, measured", "-" * 31, "",
             "Section 3.2 of the study argues that averaging over the posterior cancels the "
             "components of the input gradient normal to the data manifold. Estimating the "
             "manifold's tangent space at each test point by local PCA of its nearest "
             "training images, the share of the squared gradient (or LRP heatmap) outside it "
             "(normal fraction; 1: wholly off the manifold):", ""]  # fmt: skip
    gradient = summary[summary["quantity"] == "gradient"]
    for (dataset, arch, inference), part in gradient.groupby(["dataset", "arch", "inference"]):
        part = part.groupby("n_samples")[["median", "random_median"]].mean()
        one, top = part.iloc[0], part.iloc[-1]
        text = f"{one['median']:.3f} (one draw)"
        if len(part) > 1:
            text += f" -> {top['median']:.3f} (mean of {part.index[-1]} draws)"
        lines.append(f"- {dataset} {arch}_{inference}: {text}; a random direction "
                     f"{one['random_median']:.3f}")  # fmt: skip
    lines.append("")
    lines += probe_claim_lines(claims)
    return [*lines, "", "Details: geometry.csv, geometry_claims.csv, geometry.png.", ""]


def explainer_lines(by_explainer: pd.DataFrame) -> list[str]:
    """Plain words for claims_by_explainer: each claim's verdict under every explainer."""
    explainers = list(dict.fromkeys(by_explainer["explainer"]))
    lines = ["Is the effect specific to epsilon-LRP?", "-" * 38, "",
             "The claims as defined (attacks on the label, every point) with each "
             "explainer's heatmaps in place of epsilon-LRP's; a verdict shared by every "
             "column does not hang on the epsilon rule (claims_by_explainer.csv).", "",
             ".. list-table::", "   :header-rows: 1", "",
             "   * - claim", *[f"     - {e}" for e in explainers]]  # fmt: skip
    table = by_explainer.set_index(["claim", "explainer"])
    for claim in dict.fromkeys(by_explainer["claim"]):
        cells = []
        for explainer in explainers:
            row = table.loc[(claim, explainer)]
            interval = _interval(row["value"], row["ci_low"], row["ci_high"])
            cells.append(f"     - {row['verdict']}: {interval}")
        lines += [f"   * - {claim}", *cells]
    verdicts = by_explainer.groupby("claim", sort=False)["verdict"].nunique()
    shared = [c for c, count in verdicts.items() if count == 1]
    lines += ["", f"Same verdict under every explainer: {', '.join(shared) or 'none'}; "
              f"differing: {', '.join(c for c in verdicts.index if c not in shared) or 'none'}.",
              ""]  # fmt: skip
    return lines


def stability_lines(claims: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """Plain words for the stability probe (stability.py): the claims C9 and each family's
    median max-sensitivity of the LRP heatmap, at one draw and at its largest n."""
    lines = ["Stability under random noise (no attack gradient)", "-" * 50, "",
             "An attack's gradient can be masked; random noise of the same radius cannot. "
             "Median max-sensitivity of the output-layer epsilon-LRP heatmap (the largest "
             "relative change ||h(x') - h(x)|| / ||h(x)|| over the perturbations; lower is "
             "steadier):", ""]  # fmt: skip
    lrp = summary[(summary["metric"] == "max_sensitivity")
                  & (summary["explainer"] == STUDY_EXPLAINER)]  # fmt: skip
    for (dataset, arch, inference), part in lrp.groupby(["dataset", "arch", "inference"]):
        part = part.groupby("n_samples")["median"].mean()
        text = f"{part.iloc[0]:.3f} (one draw)"
        if len(part) > 1:
            text += f" -> {part.iloc[-1]:.3f} (mean of {part.index[-1]} draws)"
        lines.append(f"- {dataset} {arch}_{inference}: {text}")
    lines.append("")
    lines += probe_claim_lines(claims)
    return [*lines, "", "Details: stability.csv, stability_claims.csv, stability.png.", ""]


def faithfulness_lines(claims: pd.DataFrame, summary: pd.DataFrame) -> list[str]:
    """Plain words for the faithfulness probe (faithfulness.py, randomisation.py): the
    claims C10 and each family's LRP faithfulness and randomisation similarity."""
    lines = ["Are the explanations faithful to their model?", "-" * 46, "",
             "A heatmap can be robust because it barely depends on the model. Pixel "
             "flipping: the drop of p(class) when the most relevant pixels are removed "
             "first, beyond a random order's (faithfulness; 0 = unrelated to the model). "
             "Randomisation (MPRT): the similarity of the heatmap with that of the same "
             "net with its output layer re-initialised (lower = depends more on the "
             "model). Epsilon-LRP, output layer, medians:", ""]  # fmt: skip
    lrp = summary[summary["explainer"] == STUDY_EXPLAINER]
    for (dataset, arch, inference), part in lrp.groupby(["dataset", "arch", "inference"]):
        top = part[part["n_samples"] == part["n_samples"].max()]
        values = top.groupby("metric")["median"].mean()
        output = max(int(m.removeprefix("mprt_layer")) for m in values.index
                     if m.startswith("mprt_layer"))  # fmt: skip
        lines.append(f"- {dataset} {arch}_{inference} (n = {top['n_samples'].iloc[0]}): "
                     f"faithfulness {values['faithfulness']:.3f}, similarity after "
                     f"randomisation {values[f'mprt_layer{output}']:.2f}")  # fmt: skip
    lines.append("")
    lines += probe_claim_lines(claims)
    return [*lines, "", "Details: faithfulness.csv, faithfulness_claims.csv, "
            "faithfulness.png.", ""]  # fmt: skip


def gate_lines(claims: pd.DataFrame) -> list[str]:
    """Plain words for the claims that rest on posteriors which failed their gates."""
    failed = claims[claims["gate"] == "failed"]
    if not len(failed):
        passed = claims[claims["gate"] == "passed"]
        if not len(passed):
            return []
        return ["- Every Bayesian posterior the claims rest on passed its gates "
                "(posterior_gates.csv)."]  # fmt: skip
    notes = sorted({note for text in failed["gate_note"] for note in str(text).split(" | ")})
    return [
        f"- **Caution:** {', '.join(failed['claim'])} rest on posteriors that failed their "
        f"gates (convergence in function space, or accuracy beside the deterministic net "
        f"that saw the same data); read those verdicts as about these posteriors, not about "
        f"the Bayesian posterior. Failed: {'; '.join(notes)} (posterior_gates.csv)."
    ]


FAMILY_KEYS = ["dataset", "arch", "inference"]


def family_table(comparison: pd.DataFrame, accuracy: pd.DataFrame) -> pd.DataFrame:
    """Every model family side by side at its largest n: LRP's median robustness at the
    output layer per attack (all points and perturbed points, from `comparison`, already
    cut to one metric) beside its test accuracy and ECE (means over seeds), most robust on
    perturbed points first within each (dataset, attack)."""
    largest = comparison.groupby(FAMILY_KEYS)["n_samples"].transform("max")
    rows = comparison[comparison["n_samples"] == largest]
    quality = accuracy.groupby([*FAMILY_KEYS, "n_samples"], as_index=False)[
        ["test_accuracy", "ece"]
    ].mean()
    rows = rows.merge(quality, on=[*FAMILY_KEYS, "n_samples"], how="left")
    columns = [*FAMILY_KEYS, "n_samples", "attack", STUDY_EXPLAINER,
               f"{STUDY_EXPLAINER}_perturbed", "test_accuracy", "ece"]  # fmt: skip
    order = ["dataset", "attack", f"{STUDY_EXPLAINER}_perturbed"]
    return rows[columns].sort_values(order, ascending=[True, True, False], kind="stable")


def family_lines(table: pd.DataFrame) -> list[str]:
    """`family_table` as a reStructuredText list-table."""
    lines = [".. list-table::", "   :header-rows: 1", "",
             "   * - dataset, attack", "     - model", "     - LRP robustness (all points)",
             "     - (perturbed points)", "     - test accuracy", "     - ECE"]  # fmt: skip
    for row in table.itertuples(index=False):
        values = row._asdict()
        single = row.inference in SINGLE_NETWORK_INFERENCES
        model = f"{row.arch} {row.inference}" + ("" if single else f" n={row.n_samples}")
        lines += [f"   * - {row.dataset}, {row.attack}", f"     - {model}",
                  f"     - {values[STUDY_EXPLAINER]:.3f}",
                  f"     - {values[f'{STUDY_EXPLAINER}_perturbed']:.3f}",
                  f"     - {row.test_accuracy:.3f}", f"     - {row.ece:.3f}"]  # fmt: skip
    return lines


def summary_page(
    claims: pd.DataFrame,
    introduction: str,
    settings: dict,
    comparison: pd.DataFrame,
    attacks: pd.DataFrame | None = None,
    sensitivity: pd.DataFrame | None = None,
    accuracy: pd.DataFrame | None = None,
    masking: pd.DataFrame | None = None,
    breakdown: pd.DataFrame | None = None,
    geometry: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    stability: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    faithfulness: tuple[pd.DataFrame, pd.DataFrame] | None = None,
    by_explainer: pd.DataFrame | None = None,
) -> str:
    """The report's first page (reStructuredText): a plain-language answer, the verdict on
    every claim on all points and on the points the attack actually perturbed, and how LRP
    compares with trivial explanations."""
    level = f"{settings['confidence']:.0%}"
    # The claims' metric: the top-k overlap at claims.k.
    comparison = comparison[comparison["metric"] == topk_label(settings["k"])]
    lines = [introduction.rstrip(), ""]
    if attacks is not None:
        lines += ["The answer in brief", "-" * 19, "",
                  *plain_answer(claims, comparison, attacks, sensitivity, masking),
                  ""]  # fmt: skip
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
        note = f" ({row.note})" if isinstance(row.note, str) and row.note else ""
        if row.gate == "failed":
            note += " (rests on a posterior that failed its gates)"
        lines += [f"   * - {row.claim}: {row.statement}",
                  f"     - **{row.verdict}**{note}",
                  f"     - {_interval(row.value, row.ci_low, row.ci_high)}",
                  f"     - {row.verdict_perturbed}: "
                  f"{_interval(row.value_perturbed, row.ci_low_perturbed, row.ci_high_perturbed)}",
                  f"     - {row.threshold}"]  # fmt: skip
    lines += ["", "Definitions of the statistics are in the claims table and the README.", ""]
    if breakdown is not None and attacks is not None:
        lines += explanation_attack_lines(breakdown, attacks)
    if geometry is not None:  # (claims C8, summary)
        lines += geometry_lines(*geometry)
    if by_explainer is not None and by_explainer["explainer"].nunique() > 1:
        lines += explainer_lines(by_explainer)
    if stability is not None:  # (claims C9, summary)
        lines += stability_lines(*stability)
    if faithfulness is not None:  # (claims C10, summary)
        lines += faithfulness_lines(*faithfulness)
    lines += ["LRP against trivial explanations", "-" * 32, ""]
    for (inference, bayes), part in comparison.groupby(
        [comparison["inference"], ~comparison["inference"].isin(SINGLE_NETWORK_INFERENCES)]
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
    if accuracy is not None:
        lines += ["", "Every model family side by side", "-" * 31, "",
                  f"Bayesian nets ({', '.join(BAYESIAN_INFERENCES)}), the averaging controls "
                  f"({', '.join(AVERAGING_CONTROLS)}) and the deterministic nets, each at "
                  f"its largest n: LRP's median top-{settings['k']} robustness at the "
                  f"output layer (points and seeds pooled within the row), beside what the "
                  f"family costs in test accuracy and calibration (ECE; means over seeds). "
                  f"Most robust on the perturbed points first.", "",
                  *family_lines(family_table(comparison, accuracy)), ""]  # fmt: skip
    return "\n".join(lines) + "\n"
