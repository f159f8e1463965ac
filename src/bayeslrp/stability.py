"""Gradient-free stability of explanations: how far a heatmap moves under random noise of
the attacks' radius. No attack gradient is involved, so masked gradients cannot flatter a
model here (issue #20 item 2).

Per test point, `samples` perturbations x' = clip(x + u, 0, 1) with u uniform in the L-inf
ball of `radius`; h is the explainer's heatmap (the Bayesian mean over n draws) of the
class the model predicts at the clean x, so only the input moves:

  max_sensitivity = max_m ||h(x'_m) - h(x)|| / ||h(x)||   (Yeh et al., NeurIPS 2019)
  avg_sensitivity = mean_m ||h(x'_m) - h(x)|| / ||h(x)||
  local_lipschitz = max_m ||h(x'_m) - h(x)|| / ||x'_m - x|| (Alvarez-Melis & Jaakkola 2018)

and, the companion of claim C5 (explanation change per change of the output; Agarwal et al.
2022, "Rethinking stability for attribution-based explanations", as Quantus computes it):

  relative_output_stability = max_m ||(h(x'_m) - h(x)) / h(x)|| / ||o(x'_m) - o(x)||

over the perturbations that keep the predicted class, with the division by h(x) pixel by
pixel (a pixel where h(x) is exactly 0 divides by 1e-6, as does an unchanged output) and
o the log of the (mean) softmax over the n draws: a Bayesian mean has no logits, and for
one net this is its logits less a per-input constant. Read it with care: its pixel-wise
relative change is ruled by the pixels where h(x) is near 0 (on MNIST the black background,
where every x-times-gradient map is exactly 0 until the noise lights it up), so it ranks
maps mostly by how much they light up there.

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

METRICS = ("max_sensitivity", "avg_sensitivity", "local_lipschitz", "relative_output_stability")
# Quantus's guard against division by zero in the relative output stability
EPS_MIN = 1e-6


def perturb(x: torch.Tensor, radius: float, samples: int,
            generator: torch.Generator) -> torch.Tensor:  # fmt: skip
    """[samples, N, ...]: x plus uniform noise in the L-inf ball of `radius`, in [0, 1]."""
    noise = torch.rand((samples, *x.shape), generator=generator, dtype=x.dtype,
                       device=generator.device)  # fmt: skip
    return (x + (2 * noise.to(x.device) - 1) * radius).clamp(0, 1)


def relative_output_stability(
    clean: torch.Tensor, moved: torch.Tensor, output: torch.Tensor, moved_output: torch.Tensor
) -> torch.Tensor:
    """[N]: the maximum over the perturbations that keep the predicted class of the
    pixel-wise relative change of the heatmap per change of the output (see the module
    doc); clean heatmaps [N, ...], moved [M, N, ...], outputs [N, C] and [M, N, C]. NaN
    where every perturbation changes the class."""
    relative = (moved - clean) / torch.where(clean == 0, EPS_MIN, clean)
    numerator = relative.flatten(2).norm(dim=2)  # [M, N]
    change = (moved_output - output).norm(dim=2)
    ratio = numerator / torch.where(change == 0, EPS_MIN, change)
    kept = moved_output.argmax(2) == output.argmax(1)
    best = torch.where(kept, ratio, -torch.inf).amax(0)
    return torch.where(kept.any(0), best, torch.nan)


def scores(clean: torch.Tensor, moved: torch.Tensor, x: torch.Tensor, noisy: torch.Tensor,
           output: torch.Tensor, moved_output: torch.Tensor,
           ) -> dict[str, torch.Tensor]:  # fmt: skip
    """Each metric [N] from the clean heatmaps [N, ...], those at the perturbed inputs
    [M, N, ...], the inputs x [N, ...], the perturbed inputs [M, N, ...] and the outputs
    o (log mean softmax) at both, [N, C] and [M, N, C]. A zero clean heatmap has no
    relative change (NaN); an unmoved input (every pixel clipped back) adds nothing to the
    Lipschitz estimate."""
    change = (moved - clean).flatten(2).norm(dim=2)  # [M, N]
    size = clean.flatten(1).norm(dim=1)  # [N]
    relative = torch.where(size > 0, change / size, torch.nan)
    step = (noisy - x).flatten(2).norm(dim=2)
    ratio = torch.where(step > 0, change / step.clamp_min(1e-300), 0.0)
    return {"max_sensitivity": relative.amax(0), "avg_sensitivity": relative.mean(0),
            "local_lipschitz": ratio.amax(0),
            "relative_output_stability": relative_output_stability(clean, moved, output,
                                                                   moved_output)}  # fmt: skip


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
    output = posterior.log_predict_proba_prefixes(x, ns)
    targets = {n: o.argmax(1) for n, o in output.items()} if target == "ensemble" else None
    clean = bayesian_heatmaps(explainer, posterior, x, layer, ns, targets, **settings)
    noisy = perturb(x, radius, samples, generator)
    moved = [bayesian_heatmaps(explainer, posterior, noisy[m], layer, ns, targets, **settings)
             for m in range(samples)]  # fmt: skip
    moved_output = [posterior.log_predict_proba_prefixes(noisy[m], ns) for m in range(samples)]
    return {n: scores(clean[n], torch.stack([heat[n] for heat in moved]), x, noisy, output[n],
                      torch.stack([o[n] for o in moved_output]))
            for n in ns}  # fmt: skip
