"""Names of the methods on each science axis, without importing torch.

The schema's enums, the workflow's wildcard constraints and the registries (attacks.py's
REGISTRY, ...) must list the same names; tests/test_names.py checks that they do. Snakemake
reads this module while it builds the DAG, so it must stay torch-free.
"""

from __future__ import annotations

from typing import NamedTuple

DATASETS = ("mnist", "fashion_mnist")
# Training images of every dataset (MNIST and Fashion-MNIST alike).
TRAIN_IMAGES = 60000
# Posterior families: every one gives a stack of weight samples (posterior.py), so the
# attacks, heatmaps, tables and figures treat them alike.
INFERENCES = ("det", "vi", "hmc", "laplace", "sgmcmc", "ensemble", "weight_noise", "adv",
              "twin")
# The families the study calls Bayesian (approximate posteriors): claims C2-C5 are about
# these.
BAYESIAN_INFERENCES = ("vi", "hmc", "laplace", "sgmcmc")
# Families sampled by Markov chains: their draws must pass the convergence gate (gates.py).
MCMC_INFERENCES = ("hmc", "sgmcmc")
# Averages of several networks that are not posteriors: the controls of "is it Bayes, or
# mere averaging?" (claim C6).
AVERAGING_CONTROLS = ("ensemble", "weight_noise")
# Families whose model is one network (n = 1): the deterministic net of the study's claims
# C1 and C5b, the adversarially trained net (the non-Bayesian route to robustness), and the
# matched-data twin (a deterministic net on exactly HMC's training images).
SINGLE_NETWORK_INFERENCES = ("det", "adv", "twin")
# The Bayesian family whose data the twin matches (claim C2b pairs them).
TWIN_OF = "hmc"


class Family(NamedTuple):
    """How the generic fit_posterior rule fits a family: `module`.fit makes the weight
    stack from the config blocks `blocks` (a block, or "block.key" for one of its
    settings), starting from the deterministic net of the same
    architecture and seed when `from_det`; `draws` families make max(n_samples) draws
    (the setting `n_samples` is passed to them)."""

    module: str
    blocks: tuple[str, ...]
    from_det: bool = False
    draws: bool = False


# The families of the generic fit_posterior rule. VI and HMC have rules of their own: a
# guide to sample from, and chains run as jobs of their own. (SG-MCMC runs its chains in
# one job: a few minutes in all.)
FITTED = {
    "det": Family("inference", ("det",)),
    "ensemble": Family("ensemble", ("det", "ensemble")),
    "weight_noise": Family("weight_noise", ("weight_noise",), from_det=True, draws=True),
    "laplace": Family("laplace_posterior", ("det", "laplace"), from_det=True, draws=True),
    "sgmcmc": Family("sgmcmc", ("sgmcmc",), draws=True),
    "adv": Family("adversarial_training", ("det", "adv")),
    "twin": Family("matched_twin", ("det", "hmc.train_size")),
}
# Config sections no trained net reads (tests/test_reruns.py changes each and sees no fit
# rerun): a sensitivity variant that differs from the main run only in these (and in which
# datasets, models and seeds it runs) reuses the main run's nets.
ANALYSIS_SECTIONS = ("datasets", "models", "seeds", "data", "attacks", "geometry",
                     "stability", "faithfulness", "explainers", "metrics", "claims",
                     "sensitivity")  # fmt: skip
# Adversarial attacks, and controls: perturbations that do not attack (a reference point
# for the masking checks, left out of the study's claims).
ATTACKS = ("fgsm", "pgd", "apgd_ce", "apgd_dlr", "square", "transfer", "noise", "topk",
           "manipulation")
CONTROL_ATTACKS = ("noise",)
# Attacks on the explanation, not the label (explanation_attacks.py): they keep the
# prediction by construction, so the study's claims (about label attacks) leave them out
# and the claims breakdown shows them as a slice of their own.
EXPLANATION_ATTACKS = ("topk", "manipulation")
# Attacks that never take the attacked model's gradient (the black-box side of the masking
# checks, masking.py): query-based, or crafted on another net.
BLACK_BOX_ATTACKS = ("square", "transfer")
# Attacks that take one gradient step (compared with the iterative ones in masking.py).
ONE_STEP_ATTACKS = ("fgsm",)
# The families an adversarial can be transferred from (attacks.transfer.source): single
# networks of the target's architecture.
TRANSFER_SOURCES = ("det", "twin")
# The attacks that read the shared settings attacks.bayes and attacks.loss; the others
# (APGD, Square: the posterior predictive with their own loss; noise) ignore them, so
# changing those settings reruns these only.
SHARED_SETTING_ATTACKS = ("fgsm", "pgd")
EXPLAINERS = ("lrp", "gradient_x_input", "beta_lrp", "integrated_gradients", "lrp_gamma",
              "lrp_zplus", "lrp_epsilon_gamma_box", "smoothgrad")
# Explainers run for the det nets only: beta-smoothing is the cheap rival of averaging n
# draws (claim C7), not something to average.
DET_ONLY_EXPLAINERS = ("beta_lrp",)
# The rival explanation of claim C7: the det net explained by it enters the claims as the
# pseudo-family `det_<name>`.
SMOOTHING_RIVAL = "beta_lrp"
# The study's explainer: its heatmaps drive the claims and the figures; the others are
# compared with it in the tables.
STUDY_EXPLAINER = "lrp"
# Per explainer, the settings of its block that change speed only (never the heatmap):
# kept out of the rules' params so that changing them reruns nothing.
EXPLAINER_SPEED_SETTINGS = {"lrp": ("backend",)}
# Scores of a clean against an adversarial heatmap (explanation_metrics.py). Each gives
# one or more rows per point, labelled in the tables' `metric` column (top-k: one per k).
METRICS = ("topk_overlap", "spearman", "kendall")
# The study's metric: its rows (at claims.k and claims.k_correlation) drive the claims.
STUDY_METRIC = "topk_overlap"
# Trivial explanations an explainer should beat (baselines.py), scored with the same metric.
BASELINES = ("input", "random", "gradient_x_input")


def topk_label(k: int) -> str:
    """The `metric` label of the top-k overlap at k (e.g. top10_overlap)."""
    return f"top{k}_overlap"


def sgmcmc_draws_per_cycle(sgmcmc: dict, n_samples: int) -> int:
    """Draws SG-MCMC keeps per cycle so that its stack (chains x cycles x this) holds at
    least `n_samples` draws. Here, torch-free, because the workflow needs it too (the
    config check, and whether the chains are long enough to judge)."""
    return -(-n_samples // (sgmcmc["chains"] * sgmcmc["cycles"]))


def alternatives(names) -> str:
    """A regular expression matching exactly one of `names` (a wildcard constraint)."""
    return "|".join(names)
