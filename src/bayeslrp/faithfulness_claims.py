"""Claims C10 about faithfulness (faithfulness.py): is the deterministic net's epsilon-LRP
faithful at all (C10s), and are the Bayesian mean heatmaps, whose robustness the study
claims, more faithful to their model than the deterministic net's (C10, and
`C10:<explainer>` for every other explainer run for the Bayesian nets)? An interval wholly
below 0 says they are less faithful: robust, perhaps, because they say less about the
model.

The score is pixel-flipping faithfulness per test point (a random order's area minus the
most-relevant-first area; 0 for an explanation unrelated to the model). Statistics,
intervals and verdicts as the other per-point probe claims (paired_claims.py): supported
when the interval lies wholly above `claims.c10_min` (0), not supported when wholly at or
below it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayeslrp.claims import CLAIM_COLUMNS
from bayeslrp.names import STUDY_EXPLAINER
from bayeslrp.paired_claims import claim_row, det_differences, det_values, other_explainers

CLAIM_METRIC = "faithfulness"
MISSING = "needs the det net (and, for C10, a Bayesian posterior of its architecture)"


def faithfulness_claims(frame: pd.DataFrame, settings: dict,
                        gates: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """The C10 rows (claims.CLAIM_COLUMNS) of the faithfulness probe's rows (long format:
    metric, value); `settings` is the config's claims section."""
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
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)
