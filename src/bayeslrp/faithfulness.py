"""Faithfulness by pixel flipping (Bach et al. 2015; Samek et al. 2017, "most relevant
first"): does removing the pixels an explanation calls most relevant hurt the prediction
it explains more than removing random pixels? An explanation can be robust because it
barely depends on the model (the input-as-heatmap baseline shows the danger); this is the
check that it still says something about the model (issue #20 item 3).

For each test point and heatmap h (the Bayesian mean over n draws, output layer), the
`pixels` most relevant pixels (largest signed relevance: evidence for the class) are set
to 0 (black, the background of both datasets) in `steps` equal steps, and after each
step the model (the same n draws) gives p(class | flipped image), the class being the one
explained (the argmax of the mean softmax at the clean point), divided by p(class | x):
the share of its clean confidence left, so that models of different confidence compare.
The curve's area (mean over its steps + 1 points; 1 = nothing lost, above 1 where the
removals raise the class's probability) is `morf_auc`;
`random_auc` is the same with the pixels in a random order (one seeded permutation per
point, the same for every model), and `faithfulness` = random_auc - morf_auc: positive
when the explanation finds pixels that matter more than chance, 0 for an explanation
unrelated to the model. Caveat: a saturated softmax (p near 1) hides the first removals
from both curves alike, so a very confident model can look less faithful than it is.
"""

from __future__ import annotations

import torch

from bayeslrp.posterior import Posterior


def flip_counts(pixels: int, steps: int) -> list[int]:
    """Pixels removed after each of the steps + 1 points of the curve (0 first)."""
    return [round(s * pixels / steps) for s in range(steps + 1)]


def flipped(x: torch.Tensor, order: torch.Tensor, counts: list[int]) -> torch.Tensor:
    """[len(counts), N, ...]: x with its first `count` pixels of `order` [N, P] set to 0."""
    flat = x.flatten(1)
    rank = torch.empty_like(order)
    rank.scatter_(1, order, torch.arange(order.shape[1], device=order.device).expand_as(order))
    keep = torch.stack([rank >= count for count in counts])  # [C, N, P]
    return (flat * keep).view(len(counts), *x.shape)


def curve(posterior: Posterior, x: torch.Tensor, order: torch.Tensor, target: torch.Tensor,
          counts: list[int]) -> torch.Tensor:  # fmt: skip
    """[N, len(counts)]: the predictive p(target | x flipped in `order`) after each count,
    over p(target | x) (counts[0] must be 0: the clean point)."""
    images = flipped(x, order, counts)
    proba = posterior.predict_proba(images.flatten(0, 1)).view(len(counts), len(x), -1)
    kept = proba.gather(2, target.view(1, -1, 1).expand(len(counts), -1, 1)).squeeze(2).T
    return kept / kept[:, :1]


def random_orders(n_points: int, n_pixels: int, generator: torch.Generator) -> torch.Tensor:
    """[N, P]: one random permutation of the pixels per point."""
    return torch.rand((n_points, n_pixels), generator=generator).argsort(1)


def probe(
    posterior: Posterior,
    x: torch.Tensor,
    heatmaps: dict[int, torch.Tensor],
    *,
    pixels: int,
    steps: int,
    random_order: torch.Tensor,
    targets: dict[int, torch.Tensor] | None = None,
) -> dict[int, dict[str, torch.Tensor]]:
    """n -> metric -> [N] for the mean heatmaps `heatmaps[n]` [N, ...] of the first n draws;
    `random_order` [N, P] is the chance ordering (random_orders); `targets[n]` the classes
    explained (default: the mean softmax's argmax over n draws at x, computed here)."""
    counts = flip_counts(min(pixels, x[0].numel()), steps)
    ns = sorted(heatmaps)
    if targets is None:
        targets = ensemble_targets(posterior, x, ns)
    out = {}
    for n in ns:
        model = posterior.take(n)
        # stable: ties (e.g. the zero relevance of black pixels) in pixel order
        order = heatmaps[n].flatten(1).argsort(dim=1, descending=True, stable=True)
        morf = curve(model, x, order, targets[n], counts).mean(1)
        chance = curve(model, x, random_order.to(x.device), targets[n], counts).mean(1)
        out[n] = {"morf_auc": morf, "random_auc": chance, "faithfulness": chance - morf}
    return out


def ensemble_targets(posterior: Posterior, x: torch.Tensor,
                     ns: list[int]) -> dict[int, torch.Tensor]:  # fmt: skip
    """n -> [N]: the argmax of the mean softmax over the first n draws at x."""
    return {n: p.argmax(1) for n, p in posterior.predict_proba_prefixes(x, ns).items()}
