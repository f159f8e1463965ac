"""Does each posterior earn its place in the claims? Two gates per Bayesian posterior:

- **converged**: an MCMC posterior (names.MCMC_INFERENCES) passes when its chains agree in
  function space: at least `min_chains` chains, and at most `max_unconverged_fraction` of
  the test points with split R-hat of p(true class | x) above 1.1 (convergence.py). Draws
  that are i.i.d. by construction (VI's guide, Laplace) have nothing to converge:
  "not applicable" (not "n/a", which pandas reads back as NaN).
- **accurate**: test accuracy at the largest n at most `accuracy_margin` below that of the
  deterministic reference that saw the same data: the matched-data twin for HMC where the
  run has one, else the det net of the same architecture (and seed).

A claim resting on a posterior that fails either gate keeps its verdict, flagged: the
claims table says which posterior failed and why (`gate`, `gate_note`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bayeslrp.names import BAYESIAN_INFERENCES, MCMC_INFERENCES, TWIN_OF

POSTERIOR_KEYS = ["dataset", "arch", "inference", "seed"]
GATE_COLUMNS = [*POSTERIOR_KEYS, "n_samples", "chains", "unconverged_fraction", "converged",
                "accuracy", "reference", "reference_accuracy", "accurate", "passed",
                "reason"]  # fmt: skip


def _statistic(posterior: pd.DataFrame, keys: tuple, name: str) -> float:
    """A whole-posterior statistic of posterior.csv for the posterior `keys`, else NaN."""
    mask = posterior["statistic"] == name
    for column, value in zip(POSTERIOR_KEYS, keys, strict=True):
        mask &= posterior[column] == value
    return float(posterior.loc[mask, "value"].iloc[0]) if mask.any() else np.nan


def _reference_accuracy(accuracy: pd.DataFrame, dataset, arch, inference, seed):
    """(name, accuracy) of the deterministic net `inference`'s posterior is judged against."""
    candidates = (["twin"] if inference == TWIN_OF else []) + ["det"]
    for name in candidates:
        rows = accuracy[(accuracy["dataset"] == dataset) & (accuracy["arch"] == arch)
                        & (accuracy["inference"] == name) & (accuracy["seed"] == seed)]  # fmt: skip
        if len(rows):
            return f"{arch}_{name}", float(rows["test_accuracy"].iloc[0])
    return "", np.nan


def posterior_gates(
    posterior: pd.DataFrame, accuracy: pd.DataFrame, settings: dict
) -> pd.DataFrame:
    """One row per Bayesian posterior (GATE_COLUMNS): posterior.csv and accuracy.csv in,
    `settings` the config's claims.gates block."""
    rows = []
    bayes = accuracy[accuracy["inference"].isin(BAYESIAN_INFERENCES)]
    for keys, runs in bayes.groupby(POSTERIOR_KEYS, sort=True):
        dataset, arch, inference, seed = keys
        largest = runs.loc[runs["n_samples"].idxmax()]
        reasons = []
        chains = _statistic(posterior, keys, "fs_chains")
        unconverged = _statistic(posterior, keys, "fs_rhat_above_threshold_fraction")
        converged = "not applicable"
        if inference in MCMC_INFERENCES:
            converged = "yes"
            if np.isnan(unconverged):
                converged = "no"
                reasons.append("convergence not judged (per_batch protocol or too few draws)")
            elif chains < settings["min_chains"]:
                converged = "no"
                reasons.append(f"{chains:.0f} chain(s), the gate needs {settings['min_chains']}")
            limit = settings["max_unconverged_fraction"]
            if unconverged > limit:
                converged = "no"
                reasons.append(f"{unconverged:.0%} of test points have function-space R-hat > "
                               f"1.1 (gate: {limit:.0%})")  # fmt: skip
        reference, reference_accuracy = _reference_accuracy(accuracy, dataset, arch, inference,
                                                            seed)  # fmt: skip
        accurate = "not applicable"
        if not np.isnan(reference_accuracy):
            accurate = ("yes" if largest["test_accuracy"] >= reference_accuracy
                        - settings["accuracy_margin"] else "no")  # fmt: skip
            if accurate == "no":
                reasons.append(f"accuracy {largest['test_accuracy']:.3f} vs {reference} "
                               f"{reference_accuracy:.3f} (gate: at most "
                               f"{settings['accuracy_margin']:g} below)")  # fmt: skip
        rows.append({
            "dataset": dataset, "arch": arch, "inference": inference, "seed": seed,
            "n_samples": int(largest["n_samples"]), "chains": chains,
            "unconverged_fraction": unconverged, "converged": converged,
            "accuracy": float(largest["test_accuracy"]), "reference": reference,
            "reference_accuracy": reference_accuracy, "accurate": accurate,
            "passed": converged != "no" and accurate != "no", "reason": "; ".join(reasons),
        })  # fmt: skip
    return pd.DataFrame(rows, columns=GATE_COLUMNS)


def claim_gate(rows: pd.DataFrame, gates: pd.DataFrame | None) -> tuple[str, str]:
    """("passed" / "failed" / "not applicable", note) for a claim computed on `rows`: failed if any
    Bayesian posterior among them failed its gates (the note names each and why)."""
    if gates is None or not len(rows):
        return "not applicable", ""
    column = "bayes_inference" if "bayes_inference" in rows else "inference"
    used = rows[rows[column].isin(BAYESIAN_INFERENCES)]
    used = used[["dataset", "arch", column, "seed"]].drop_duplicates()
    used.columns = POSTERIOR_KEYS
    judged = gates.merge(used, on=POSTERIOR_KEYS)
    if not len(judged):
        return "not applicable", ""
    failed = judged[~judged["passed"].astype(bool)]
    notes = [f"{r.dataset} {r.arch}_{r.inference} seed {r.seed}: {r.reason}"
             for r in failed.itertuples()]  # fmt: skip
    return ("failed" if len(failed) else "passed"), " | ".join(notes)
