"""Claims C10 about faithfulness (faithfulness.py): is the deterministic net's epsilon-LRP
faithful at all (C10s), and are the Bayesian mean heatmaps, whose robustness the study
claims, more faithful to their model than the deterministic net's (C10, and
`C10:<explainer>` for every other explainer run for the Bayesian nets)? An interval wholly
below 0 says they are less faithful: robust, perhaps, because they say less about the
model.

C10r asks the issue's question of every robust explanation at once: is the most robust
explanation (per dataset, architecture and seed, the explainer and model family whose
output-layer heatmaps keep the most top-k pixels under the label attacks) at least as
faithful as the deterministic net's epsilon-LRP? A non-inferiority claim: supported when
its interval lies above -`claims.c10r_margin`, so that an explanation that is robust
because it barely depends on the model cannot win unnoticed.

The score is pixel-flipping faithfulness per test point (a random order's area minus the
most-relevant-first area; 0 for an explanation unrelated to the model). Statistics,
intervals and verdicts as the other per-point probe claims (paired_claims.py): supported
when the interval lies wholly above `claims.c10_min` (0), not supported when wholly at or
below it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayeslrp.claims import CLAIM_COLUMNS, OUTPUT_LAYER
from bayeslrp.names import CONTROL_ATTACKS, EXPLANATION_ATTACKS, STUDY_EXPLAINER, topk_label
from bayeslrp.paired_claims import claim_row, det_differences, det_values, other_explainers

CLAIM_METRIC = "faithfulness"
MISSING = "needs the det net (and, for C10, a Bayesian posterior of its architecture)"


MODEL = ["dataset", "arch", "seed"]
CANDIDATE = [*MODEL, "inference", "explainer"]


def most_robust(robustness: pd.DataFrame, k: int) -> pd.DataFrame:
    """Per (dataset, architecture, seed) of the robustness table: the (inference, explainer)
    whose output-layer heatmaps have the highest median top-k overlap over the label
    attacks (not the controls, not the attacks on the explanation) and points, each model
    at its largest n; column `median` holds it."""
    rows = robustness[(robustness["layer"] == robustness["arch"].map(OUTPUT_LAYER))
                      & (robustness["metric"] == topk_label(k))
                      & ~robustness["attack"].isin(CONTROL_ATTACKS + EXPLANATION_ATTACKS)]
    largest = rows.groupby(CANDIDATE)["n_samples"].transform("max")
    rows = rows[rows["n_samples"] == largest]
    medians = rows.groupby(CANDIDATE, sort=True)["explanation_robustness"].median()
    medians = medians.rename("median").reset_index()
    # the first of equal medians in (inference, explainer) order: the same on every machine
    return medians.loc[medians.groupby(MODEL, sort=True)["median"].idxmax()]


def most_robust_differences(frame: pd.DataFrame, best: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, architecture, seed) and point: the faithfulness of the most robust
    explanation (`best`, most_robust) at the largest n the probe ran for it, minus that of
    the det net's epsilon-LRP (column `difference`)."""
    chosen = frame.merge(best[CANDIDATE], on=CANDIDATE)
    chosen = chosen[chosen["n_samples"] == chosen.groupby(CANDIDATE)["n_samples"].transform("max")]
    det = frame[(frame["inference"] == "det") & (frame["explainer"] == STUDY_EXPLAINER)]
    paired = chosen.merge(det[[*MODEL, "point", "value"]], on=[*MODEL, "point"],
                          suffixes=("", "_det"))  # fmt: skip
    return paired.assign(difference=paired["value"] - paired["value_det"])


def faithfulness_claims(frame: pd.DataFrame, settings: dict,
                        gates: pd.DataFrame | None = None,
                        robustness: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """The C10 rows (claims.CLAIM_COLUMNS) of the faithfulness probe's rows (long format:
    metric, value); `settings` is the config's claims section. With the robustness table
    (`robustness`), also C10r."""
    rng = np.random.default_rng(settings["bootstrap_seed"])
    metric = frame[frame["metric"] == CLAIM_METRIC]
    what = "posterior mean at the largest n minus the det net of the same architecture"
    specs = [
        ("C10s", STUDY_EXPLAINER, det_values, "The deterministic net's LRP heatmaps are "
         "faithful: removing their most relevant pixels hurts the prediction more than "
         "removing random ones", "det nets, mean over points"),
        ("C10", STUDY_EXPLAINER, det_differences, "Bayesian mean LRP heatmaps are more faithful "
         "to their model than the deterministic net's", what),
        *[(f"C10:{e}", e, det_differences, f"Bayesian mean {e} heatmaps are more faithful to "
           "their model than the deterministic net's", what)
          for e in other_explainers(metric, STUDY_EXPLAINER)],
    ]  # fmt: skip
    rows = [
        claim_row(name, statement,
                  f"pixel-flipping faithfulness of the {explainer} heatmap (output layer; "
                  f"random order's area minus most-relevant-first area): {what_}, mean over "
                  "points, averaged over (dataset, architecture, inference, seed) groups",
                  pairing(metric[metric["explainer"] == explainer]), settings,
                  settings["c10_min"], "above", rng, gates, MISSING)
        for name, explainer, pairing, statement, what_ in specs
    ]  # fmt: skip
    if robustness is not None:
        best = most_robust(robustness, settings["k"])
        named = ", ".join(f"{r.dataset} {r.arch}: {r.inference} {r.explainer}"
                          for r in best.itertuples())  # fmt: skip
        margin = settings["c10r_margin"]
        rows.append(claim_row(
            "C10r", "The most robust explanation is at least as faithful as the deterministic "
            "net's LRP heatmaps",
            f"pixel-flipping faithfulness (output layer) of the most robust explanation (per "
            f"dataset, architecture and seed, the explainer and family with the highest median "
            f"top-{settings['k']} overlap under the label attacks: {named or 'none'}) minus the "
            "det net's epsilon-LRP, mean over points, averaged over groups; non-inferiority "
            f"margin {margin:g}",
            most_robust_differences(metric, best), settings, -margin, "above", rng, gates,
            MISSING))  # fmt: skip
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)
