"""Attacks on the explanation itself: move the heatmap, keep the prediction.

Two objectives on the posterior-mean epsilon-LRP heatmap h(x) of the predicted class
(output layer; a deterministic net is one sample), both minimised with signed gradient
steps in the L-inf ball around x, clipped to [0, 1]:

- `topk` (Ghorbani, Abid & Zou, AAAI 2019, "Interpretation of neural networks is
  fragile"): the share of |h| held by the clean heatmap's top-k pixels (the metric's own
  top-k set, `metrics.topk_overlap.mode`), pushed down.
- `manipulation` (Dombrowski et al., NeurIPS 2019): ||h^ - h^_t||^2 / ||h^_0 - h^_t||^2 +
  gamma ||p - p_0||^2, h^ = h / sum |h|, towards the heatmap h_t of another test point
  of the batch (the next one predicted as another class), p the mean softmax: 1 at the
  start, 0 when the target heatmap is reached with the output unchanged.

The gradient of a heatmap needs the net's second derivatives, which vanish almost
everywhere for LeakyReLU nets; it is taken through the softplus-beta surrogate
(smooth_lrp.py), while every iterate is judged with the real net's exact heatmap and
prediction. The attack returns the best iterate (lowest objective) whose mean prediction
is still the clean one, else x itself (Ghorbani et al. reject label-changing steps).
Against a Bayesian net the objective is that of the mean heatmap over the n draws, its
gradient the mean of the draws' vector-Jacobian products (the expected-gradient
convention of the other attacks).
"""

from __future__ import annotations

import torch

from bayeslrp.metrics import perturbed, project
from bayeslrp.posterior import Posterior
from bayeslrp.smooth_lrp import input_gradient, mean_heatmap_and_proba
from bayeslrp.topk import topk_membership

OBJECTIVES = ("topk", "manipulation")


def normalised(heat: torch.Tensor) -> torch.Tensor:
    """Heatmaps [N, ...] flattened and divided by their total |relevance| (scale-free)."""
    flat = heat.flatten(1)
    return flat / flat.abs().sum(1, keepdim=True).clamp_min(torch.finfo(flat.dtype).tiny)


def partners(predictions: torch.Tensor) -> torch.Tensor:
    """For each point, the index of the next point of the batch (cyclically) predicted as
    another class; the next point where every prediction is the same."""
    count = len(predictions)
    index = torch.arange(count, device=predictions.device)
    chosen = (index + 1) % max(count, 1)
    found = torch.zeros(count, dtype=torch.bool, device=predictions.device)
    for offset in range(1, count):
        other = (index + offset) % count
        new = ~found & (predictions[other] != predictions)
        chosen[new], found = other[new], found | new
    return chosen


def _topk_loss(clean_heat, clean_proba, *, k, mode, **_):
    clean_set = topk_membership(clean_heat, k, mode).to(clean_heat.dtype)

    def loss(heat, proba):
        return (normalised(heat).abs() * clean_set).sum(1)

    return loss


def _manipulation_loss(clean_heat, clean_proba, *, gamma, **_):
    clean = normalised(clean_heat)
    goal = clean[partners(clean_proba.argmax(1))]
    start = (clean - goal).pow(2).sum(1).clamp_min(torch.finfo(clean.dtype).tiny)

    def loss(heat, proba):
        distance = (normalised(heat) - goal).pow(2).sum(1) / start
        return distance + gamma * (proba - clean_proba).pow(2).sum(1)

    return loss


LOSSES = {"topk": _topk_loss, "manipulation": _manipulation_loss}


def explanation_attack(
    posterior: Posterior,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    objective: str,
    epsilon: float,
    steps: int,
    step_size: float,
    beta: float = 10.0,
    lrp_epsilon: float = 0.1,
    k: int = 10,
    mode: str = "signed",
    gamma: float = 1.0,
    chunk: int = 16,
    generator: torch.Generator | None = None,
    **_shared,  # the label attacks' shared settings (bayes, loss): unused
) -> dict[str, torch.Tensor]:
    """One batch of the explanation attack `objective`: the artifact of attacks.run_attack
    (`adversarial`, `start` = x, `moved`, zero-gradient flags of the objective's gradient)
    plus `explanation_objective_start` and `explanation_objective` [N] (the objective at x
    and at the returned point)."""
    if objective not in LOSSES:
        raise ValueError(f"unknown explanation attack {objective!r}; choose from {OBJECTIVES}")
    if steps < 1 or step_size <= 0:
        raise ValueError(f"attacks.{objective}: steps must be >= 1 and step_size > 0, got "
                         f"{steps} and {step_size}")  # fmt: skip
    exact = {"epsilon": lrp_epsilon, "beta": None, "chunk": chunk}
    x = x.detach()
    with torch.no_grad():
        proba = posterior.predict_proba(x)
        target = proba.argmax(1)
        heat, proba = mean_heatmap_and_proba(posterior, x, target, **exact)
    loss = LOSSES[objective](heat, proba, k=k, mode=mode, gamma=gamma)
    best, best_loss = x.clone(), loss(heat, proba)
    start_loss, x_t = best_loss.clone(), x
    zero_start = zero_last = None
    for _ in range(steps):
        h, p = heat.detach().requires_grad_(True), proba.detach().requires_grad_(True)
        with torch.enable_grad():
            weights = torch.autograd.grad(loss(h, p).sum(), (h, p), allow_unused=True)
        grad = input_gradient(posterior, x_t, target, weights[0], weights[1],
                              epsilon=lrp_epsilon, beta=beta, chunk=chunk)  # fmt: skip
        zero_last = grad.flatten(1).eq(0).all(1)
        zero_start = zero_last if zero_start is None else zero_start
        x_t = project(x_t - step_size * grad.sign(), x, epsilon).detach()
        with torch.no_grad():
            heat, proba = mean_heatmap_and_proba(posterior, x_t, target, **exact)
            value = loss(heat, proba)
        better = (proba.argmax(1) == target) & (value < best_loss)
        best[better], best_loss[better] = x_t[better], value[better]
    return {"adversarial": best, "start": x, "moved": perturbed(x, best),
            "zero_gradient_start": zero_start, "zero_gradient_last": zero_last,
            "explanation_objective_start": start_loss,
            "explanation_objective": best_loss}  # fmt: skip


def registry_entries() -> dict:
    """The attacks.REGISTRY entries of the explanation attacks."""
    return {
        name: (lambda *args, _name=name, **settings:
               explanation_attack(*args, objective=_name, **settings))
        for name in OBJECTIVES
    }  # fmt: skip
