"""Trivial explanations that an LRP robustness score should beat: the input itself as the
heatmap, a random heatmap, and plain gradient x input. Same points, same metric."""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

from bayeslrp.posterior import num_samples

BASELINES = ("input", "random", "gradient_x_input")


def gradient_x_input(
    model: nn.Module,
    posterior: dict[str, torch.Tensor],
    x: torch.Tensor,
    target: torch.Tensor,
    chunk: int = 8,
) -> torch.Tensor:
    """x times the gradient of the `target` logit, averaged over posterior samples, [N, ...]."""

    def score(params, inputs):
        logits = functional_call(model, params, (inputs,))
        return logits.gather(1, target.view(-1, 1)).sum()

    gradient = vmap(grad(score, argnums=1), in_dims=(0, None))
    total = torch.zeros_like(x)
    for start in range(0, num_samples(posterior), chunk):
        part = {k: v[start : start + chunk] for k, v in posterior.items()}
        total += gradient(part, x.detach()).sum(0)
    return total / num_samples(posterior) * x


def baseline_heatmaps(
    model: nn.Module,
    posterior: dict[str, torch.Tensor],
    x: torch.Tensor,
    x_adv: torch.Tensor,
    target_clean: torch.Tensor,
    target_adv: torch.Tensor,
    generator: torch.Generator,
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """(clean, adversarial) heatmaps of each baseline. The random heatmaps are independent
    draws for the clean and the adversarial input: their top-k overlap is chance, k / pixels."""
    noise = torch.rand((2, *x.shape), generator=generator).to(x)
    return {
        "input": (x, x_adv),
        "random": (noise[0], noise[1]),
        "gradient_x_input": (
            gradient_x_input(model, posterior, x, target_clean),
            gradient_x_input(model, posterior, x_adv, target_adv),
        ),
    }
