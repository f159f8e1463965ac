"""Claims C9 about gradient-free stability (stability.py): are Bayesian mean heatmaps
steadier under random noise of the attacks' radius than one draw's, and than the
deterministic net's?

As for the geometry claims (geometry_claims.py), each statistic is a mean paired
difference of max-sensitivity per test point within one comparable group (dataset,
architecture, inference, seed, explainer), averaged over groups, with a percentile
bootstrap interval over test points (paired_claims.py); supported when the interval lies
wholly below `claims.c9_max` (0), not supported when wholly at or above it. C9 and C9d
are about the study's explainer (epsilon-LRP); C9d is repeated for every other explainer
run for the Bayesian nets (`C9d:<explainer>`), so the report shows whether the verdict
holds for every explainer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayeslrp.claims import CLAIM_COLUMNS
from bayeslrp.names import STUDY_EXPLAINER
from bayeslrp.paired_claims import (
    averaging_differences,
    claim_row,
    det_differences,
    other_explainers,
)

CLAIM_METRIC = "max_sensitivity"
MISSING = "needs a Bayesian posterior (and, for C9d, the det net of its architecture)"


def stability_claims(frame: pd.DataFrame, settings: dict,
                     gates: pd.DataFrame | None = None) -> pd.DataFrame:  # fmt: skip
    """The C9 rows (claims.CLAIM_COLUMNS) of the stability probe's rows (stability.csv's
    long format); `settings` is the config's claims section, `gates` gates.posterior_gates."""
    rng = np.random.default_rng(settings["bootstrap_seed"])
    metric = frame[frame["metric"] == CLAIM_METRIC]
    specs = [
        ("C9", STUDY_EXPLAINER, averaging_differences, "Averaging over the posterior steadies "
         "the LRP heatmap under random noise of the attacks' radius",
         "posterior mean at the largest n minus one draw"),
        ("C9d", STUDY_EXPLAINER, det_differences, "Bayesian mean LRP heatmaps are steadier "
         "under random noise than the deterministic net's",
         "posterior mean at the largest n minus the det net of the same architecture"),
        *[(f"C9d:{e}", e, det_differences, f"Bayesian mean {e} heatmaps are steadier under "
           "random noise than the deterministic net's", "posterior mean at the largest n "
           "minus the det net of the same architecture")
          for e in other_explainers(metric, STUDY_EXPLAINER)],
    ]  # fmt: skip
    rows = [
        claim_row(name, statement,
                  f"max-sensitivity of the {explainer} heatmap (output layer): {what}, mean "
                  "paired difference over points, averaged over (dataset, architecture, "
                  "inference, seed) groups",
                  pairing(metric[metric["explainer"] == explainer]), settings,
                  settings["c9_max"], "below", rng, gates, MISSING)
        for name, explainer, pairing, statement, what in specs
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=CLAIM_COLUMNS)
