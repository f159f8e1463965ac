"""The matched-data deterministic twin: a deterministic net trained on exactly the images
HMC conditions on (the first `hmc.train_size`), so that "Bayes vs deterministic" is not
"2,000 images vs 60,000". The 60k det net stays as a model of its own.

It trains with the det settings for as many gradient steps as the det net takes on its
data (epochs scaled by the ratio of the two training sizes, never fewer than det's), so
it is not undertrained merely because its epochs are shorter; with 2,000 images that is
many epochs, and it may overfit, as a deterministic net on that data would.
"""

from __future__ import annotations

import math

from bayeslrp.inference import fit_single_network


def matched_settings(det: dict, train_size: int, available: int) -> dict:
    """The det block for the twin: HMC's training size, det's number of gradient steps."""
    det_size = min(det["train_size"] or available, available)
    size = min(train_size, available)
    epochs = max(det["epochs"], math.ceil(det["epochs"] * det_size / size))
    return {**det, "train_size": size, "epochs": epochs}


def fit(build, train, base, settings, *, generator, device):
    """One deterministic net on HMC's training images (inference.fit's signature)."""
    det = matched_settings(settings["det"], settings["hmc"]["train_size"], len(train["labels"]))
    posterior, summary = fit_single_network(build, train, det, generator=generator,
                                            device=device)  # fmt: skip
    summary["statistics"]["epochs"] = det["epochs"]
    return posterior, summary
