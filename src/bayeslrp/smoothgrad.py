"""SmoothGrad (Smilkov et al. 2017), one heatmap per sample: the gradient of the explained
unit averaged over `samples` noisy copies x + N(0, sigma^2) of the image, sigma =
`noise_level` times the image's value range (the paper's 10-20 %; captum's NoiseTunnel
with Saliency(abs=False) and nt_type "smoothgrad").

The explained unit is gradient x input's and LRP's (heatmaps.start_unit), chosen once at
the clean x, not anew at every noisy copy: the average is of one fixed function, as for
integrated gradients. The noise of an image is drawn from a generator seeded by the image's
own bytes and `seed`: the same image gets the same noise in every job, every subset of
points (heatmaps.mean_heatmaps recomputes some points alone) and every posterior draw, so
the maps are deterministic and draws differ only by their weights. The noisy copies go
through the nets as one stacked batch, vectorised over the posterior samples
(heatmaps.fixed_unit_gradients): the Bayesian mean costs `samples` backward passes per
draw, in one call.
"""

from __future__ import annotations

import hashlib

import torch

from bayeslrp.heatmaps import check_layer, fixed_unit_gradients
from bayeslrp.posterior import Posterior


def image_noise(x: torch.Tensor, samples: int, noise_level: float, seed: int) -> torch.Tensor:
    """Gaussian noise [samples, N, ...] for the images x [N, ...]: per image, from a CPU
    generator seeded by (seed, the image's bytes), scaled by noise_level x its range."""
    images = x.detach().cpu().contiguous()
    noise = torch.empty((samples, *images.shape), dtype=images.dtype)
    for i, image in enumerate(images):
        digest = hashlib.sha256(image.numpy().tobytes() + str(seed).encode()).digest()
        generator = torch.Generator().manual_seed(int.from_bytes(digest[:8], "little"))
        sigma = noise_level * float(image.max() - image.min())
        noise[:, i] = sigma * torch.randn((samples, *image.shape), generator=generator,
                                          dtype=images.dtype)  # fmt: skip
    return noise.to(x.device)


def sample_heatmaps(
    posterior: Posterior,
    x: torch.Tensor,
    *,
    layer: int,
    target: torch.Tensor | None = None,
    inner_start: str = "max_unit",
    chunk: int = 8,
    samples: int = 10,
    noise_level: float = 0.15,
    seed: int = 0,
) -> torch.Tensor:
    """Per-sample SmoothGrad [S, N, ...] explaining `layer` (see the module doc)."""
    check_layer(posterior.network, layer)
    x = x.detach()
    copies = [(1 / samples, x + n) for n in image_noise(x, samples, noise_level, seed)]
    return fixed_unit_gradients(posterior, x, copies, layer=layer, target=target,
                                inner_start=inner_start, chunk=chunk)  # fmt: skip
