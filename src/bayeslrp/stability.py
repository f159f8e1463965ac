"""Gradient-free stability of explanations: how far a heatmap moves under random noise of
the attacks' radius. No attack gradient is involved, so masked gradients cannot flatter a
model here (issue #20 item 2).

Per test point, `samples` perturbations x' = clip(x + u, 0, 1) with u uniform in the L-inf
ball of `radius`; h is the explainer's heatmap (the Bayesian mean over n draws) of the
class the model predicts at the clean x, so only the input moves:

  max_sensitivity = max_m ||h(x'_m) - h(x)|| / ||h(x)||   (Yeh et al., NeurIPS 2019)
  avg_sensitivity = mean_m ||h(x'_m) - h(x)|| / ||h(x)||
  local_lipschitz = max_m ||h(x'_m) - h(x)|| / ||x'_m - x|| (Alvarez-Melis & Jaakkola 2018)

with Euclidean norms over pixels. The sensitivities divide by ||h(x)|| (Quantus's
`norm_denominator`) so that explainers of different scale compare; unlike Quantus's
default we do not also rescale each heatmap by its maximum, which would make a map that
merely grows in one pixel look unchanged elsewhere. Lower is more stable. Quantus itself is
not used: it imports OpenCV, scikit-image and scikit-learn at start-up and explains one
network at a time; tests/test_stability.py checks these against the definitions.
"""

from __future__ import annotations

import torch

from bayeslrp.explainers import bayesian_heatmaps
from bayeslrp.posterior import Posterior

METRICS = ("max_sensitivity", "avg_sensitivity", "local_lipschitz")


def perturb(x: torch.Tensor, radius: float, samples: int,
            generator: torch.Generator) -> torch.Tensor:  # fmt: skip
    """[samples, N, ...]: x plus uniform noise in the L-inf ball of `radius`, in [0, 1]."""
    noise = torch.rand((samples, *x.shape), generator=generator, dtype=x.dtype,
                       device=generator.device)  # fmt: skip
    return (x + (2 * noise.to(x.device) - 1) * radius).clamp(0, 1)


def scores(clean: torch.Tensor, moved: torch.Tensor, x: torch.Tensor,
           noisy: torch.Tensor) -> dict[str, torch.Tensor]:  # fmt: skip
    """Each metric [N] from the clean heatmaps [N, ...], those at the perturbed inputs
    [M, N, ...], the inputs x [N, ...] and the perturbed inputs [M, N, ...]. A zero clean
    heatmap has no relative change (NaN); an unmoved input (every pixel clipped back) adds
    nothing to the Lipschitz estimate."""
    change = (moved - clean).flatten(2).norm(dim=2)  # [M, N]
    size = clean.flatten(1).norm(dim=1)  # [N]
    relative = torch.where(size > 0, change / size, torch.nan)
    step = (noisy - x).flatten(2).norm(dim=2)
    ratio = torch.where(step > 0, change / step.clamp_min(1e-300), 0.0)
    return {"max_sensitivity": relative.amax(0), "avg_sensitivity": relative.mean(0),
            "local_lipschitz": ratio.amax(0)}  # fmt: skip


def probe(
    explainer: str,
    posterior: Posterior,
    x: torch.Tensor,
    layer: int,
    ns: list[int],
    *,
    radius: float,
    samples: int,
    generator: torch.Generator,
    settings: dict,
    target: str = "ensemble",
) -> dict[int, dict[str, torch.Tensor]]:
    """n -> metric -> [N] for the mean heatmap of `explainer` over the first n draws (every
    n from one pass per perturbation); `settings` are the explainer's keyword settings.
    At the output layer every draw explains the class of the mean softmax over n at the
    clean point (`target` ensemble), or, with per_sample, its own class at each input."""
    targets = None
    if target == "ensemble":
        targets = {n: p.argmax(1) for n, p in posterior.predict_proba_prefixes(x, ns).items()}
    clean = bayesian_heatmaps(explainer, posterior, x, layer, ns, targets, **settings)
    noisy = perturb(x, radius, samples, generator)
    moved = [bayesian_heatmaps(explainer, posterior, noisy[m], layer, ns, targets, **settings)
             for m in range(samples)]  # fmt: skip
    return {n: scores(clean[n], torch.stack([heat[n] for heat in moved]), x, noisy)
            for n in ns}  # fmt: skip
