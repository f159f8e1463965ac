"""A posterior as one `nn.Module` whose output is the log of its predictive distribution:
what a library attack (torchattacks) sees of a Bayesian net.

The output is log mean softmax over the S draws, [N, C]: a valid logit vector of the
posterior predictive (its softmax is the mean softmax), so cross-entropy on it is the
predictive's NLL and a margin on it never underflows the way the probabilities would. For
S = 1 it is log_softmax of the net's logits, whose differences (all that CE, DLR and margin
losses see) equal the logits'. Every call runs all S draws (vectorised, `Posterior.logits`),
so a gradient through it is the exact gradient of the predictive's loss, no resampling:
no EOT is needed or done.

It records what the attack did: the first input batch it saw (APGD's own random start,
which the library does not return) and the forward passes it cost (images x draws).

Library attacks draw their randomness from torch's global generator; `seeded_global_rng`
seeds it from the caller's generator inside a forked state, so runs are reproducible and
the caller's global state is left as it was.
"""

from __future__ import annotations

import contextlib
import math

import torch
from torch import nn

from bayeslrp.posterior import Posterior


@contextlib.contextmanager
def seeded_global_rng(generator: torch.Generator | None, device: torch.device):
    """torch's global generator (and `device`'s, on a GPU) seeded from `generator` for the
    duration of the block, restored afterwards."""
    seed = int(torch.randint(2**31 - 1, (1,), generator=generator))
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


class PredictiveLogits(nn.Module):
    def __init__(self, posterior: Posterior, chunk: int = 16):
        super().__init__()
        self.posterior = posterior
        # registered so that library code finds the device in `parameters()`
        self.network = posterior.network
        self.chunk = chunk
        self.first_input: torch.Tensor | None = None
        self.forward_passes = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.first_input is None:
            self.first_input = x.detach().clone()
        self.forward_passes += len(x) * len(self.posterior)
        log_p = self.posterior.logits(x, self.chunk).log_softmax(-1)  # [S, N, C]
        return torch.logsumexp(log_p, 0) - math.log(len(self.posterior))
