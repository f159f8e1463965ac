"""Posterior draws per vmap batch ("chunk") against a plain loop over draws, per architecture.

What `chunk: auto` (runtime.chunk_size) rests on: the time of epsilon-LRP, z+ LRP and
gradient x input heatmaps (first and output layer) and of a 5-step Bayesian PGD, over 50
draws and 100 images, at chunk 1 (a loop), 4, 8 and 16. Prints each time and the loop's
speed-up over the vectorised default (explainers 8, attacks 16).

Usage: python benchmarks/bench_chunk.py [--draws 50] [--images 100]
"""

from __future__ import annotations

import argparse
import time

import torch

from bayeslrp import build_model
from bayeslrp.attacks import run_attack
from bayeslrp.explainers import bayesian_heatmaps
from bayeslrp.models import LEARNABLE_LAYERS
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import VECTORISED_CHUNK


def timed(fn, *args, **kwargs):
    fn(*args, **kwargs)  # warm-up: the first vmap call of a shape builds its batching rules
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def random_posterior(arch, hidden, draws):
    torch.manual_seed(0)
    nets = [build_model(arch, hidden).state_dict() for _ in range(draws)]
    return Posterior(build_model(arch, hidden), {k: torch.stack([n[k] for n in nets])
                                                 for k in nets[0]})  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=50)
    parser.add_argument("--images", type=int, default=100)
    args = parser.parse_args()
    x = torch.rand(args.images, 1, 28, 28)
    y = torch.randint(0, 10, (args.images,))
    for arch, hidden in (("fc", 128), ("conv", 16)):  # the default run's nets
        posterior = random_posterior(arch, hidden, args.draws)
        layers = LEARNABLE_LAYERS[arch]
        for name in ("lrp", "lrp_zplus", "gradient_x_input"):
            extra = {"epsilon": 0.1} if name == "lrp" else {}
            for layer in (layers[0], layers[-1]):
                times = {
                    chunk: timed(bayesian_heatmaps, name, posterior, x, layer, [args.draws],
                                 None, inner_start="max_unit", chunk=chunk, **extra)
                    for chunk in (1, 4, 8, 16)
                }  # fmt: skip
                ratio = times[VECTORISED_CHUNK["explainers"]] / times[1]
                print(f"{arch} {name} layer {layer}: "
                      + ", ".join(f"chunk {c} {t:.2f} s" for c, t in times.items())
                      + f"; loop {ratio:.2f}x the speed of chunk 8", flush=True)  # fmt: skip
        times = {
            chunk: timed(run_attack, posterior, x, y, attack="pgd", epsilon=0.25, steps=5,
                         step_size=0.05, bayes="expected_gradient", loss="cross_entropy",
                         chunk=chunk, generator=torch.Generator().manual_seed(0))
            for chunk in (1, 4, 16)
        }  # fmt: skip
        ratio = times[VECTORISED_CHUNK["attacks"]] / times[1]
        print(f"{arch} PGD (5 steps): "
              + ", ".join(f"chunk {c} {t:.2f} s" for c, t in times.items())
              + f"; loop {ratio:.2f}x the speed of chunk 16", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
