"""One step of the Bayesian explanation attack against n x one epsilon-LRP forward+backward.

Baseline, timed in the same run: the n draws' epsilon-LRP heatmaps of the batch by the
vectorised native explainer (lrp.sample_relevance: one forward and one backward per draw).
A step of explanation_attacks.explanation_attack judges the iterate with the exact mean
heatmap (one such pass) and differentiates the mean heatmap (a forward, a backward and the
backward of that backward). Goal (issue #18): a step costs <= 3x the baseline.

Usage: python benchmarks/bench_explanation_attack.py [--arch conv --hidden 16]
"""

from __future__ import annotations

import argparse
import time

import torch

from bayeslrp import build_model, lrp
from bayeslrp.explanation_attacks import explanation_attack
from bayeslrp.posterior import Posterior


def timed(fn, repeats=3):
    fn()  # warm up
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - start) / repeats


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="fc")
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=16)
    parser.add_argument("--beta", type=float, default=None, help="softplus surrogate (None: exact)")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = build_model(args.arch, args.hidden)
    names = list(model.state_dict())
    samples = {n: torch.stack([build_model(args.arch, args.hidden).state_dict()[n]
                               for _ in range(args.samples)]) for n in names}  # fmt: skip
    posterior = Posterior(model, samples)
    x = torch.rand(args.images, 1, 28, 28)
    layer = len(model) - 1

    baseline = timed(lambda: lrp.sample_relevance(posterior, x, layer=layer, chunk=args.chunk))
    for objective in ("topk", "manipulation"):
        attack = timed(lambda o=objective: explanation_attack(
            posterior, x, None, objective=o, epsilon=0.25, steps=args.steps, step_size=0.02,
            beta=args.beta, chunk=args.chunk), repeats=1)  # fmt: skip
        per_step = attack / args.steps
        print(f"{args.arch}-{args.hidden}, {args.samples} draws, {args.images} images: "
              f"{objective} step {per_step:.3f} s, n x LRP forward+backward {baseline:.3f} s, "
              f"ratio {per_step / baseline:.2f} (goal <= 3)")


if __name__ == "__main__":
    main()
