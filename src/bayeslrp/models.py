"""The study's two architectures, as `nn.Sequential` whose indices are the paper's layer ids."""

from __future__ import annotations

from torch import nn

from bayeslrp.architectures import (  # noqa: F401  (re-exported)
    ARCHITECTURES,
    LEARNABLE_LAYERS,
    output_layer,
    split_model_name,
)


def build_model(arch: str, hidden: int) -> nn.Sequential:
    """Build the `fc` or `conv` network of DESIGN.md with `hidden` units (or channels).

    fc:   Flatten, Linear(784,H), LeakyReLU, Linear(H,H), LeakyReLU, Linear(H,10)
    conv: Conv2d(1,16,5), LeakyReLU, MaxPool2d(2), Conv2d(16,H,5), LeakyReLU, MaxPool2d(2),
          Flatten, Linear(16*H,10)
    """
    if arch == "fc":
        return nn.Sequential(
            nn.Flatten(),
            nn.Linear(28 * 28, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, 10),
        )
    if arch == "conv":
        return nn.Sequential(
            nn.Conv2d(1, 16, 5),
            nn.LeakyReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(16, hidden, 5),
            nn.LeakyReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(16 * hidden, 10),
        )
    raise ValueError(f"unknown architecture {arch!r}; choose one of {ARCHITECTURES}")
