"""Bayesian PGD and APGD throughput against their physical floor, and a naive captum loop.

Floor: steps x samples plain forward+backward passes of the batch (one nn.Module call per
sample), timed in the same run. Goals: our vectorised PGD >= 0.8x the floor's speed; APGD
(torchattacks on the log predictive, apgd.py) costs <= 1.25x the floor.
Naive: a Python loop over posterior samples calling captum.robust.PGD for each.

Usage: python benchmarks/bench_attacks.py [--samples 100] [--images 500] [--steps 40]
(the defaults below are smaller so that the run takes about a minute on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import time

import torch
from captum.robust import PGD

from bayeslrp import build_model
from bayeslrp.attacks import attack
from bayeslrp.posterior import Posterior


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="fc")
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=16, help="samples per vmap batch (1 = loop)")
    parser.add_argument("--naive-samples", type=int, default=10, help="samples for the slow loop")
    args = parser.parse_args()
    torch.manual_seed(0)
    model = build_model(args.arch, args.hidden)
    names = list(model.state_dict())
    posterior = {n: torch.stack([build_model(args.arch, args.hidden).state_dict()[n]
                                 for _ in range(args.samples)]) for n in names}  # fmt: skip
    x = torch.rand(args.images, 1, 28, 28)
    y = torch.randint(0, 10, (args.images,))
    loss = torch.nn.CrossEntropyLoss(reduction="sum")

    def floor():
        xr = x.clone().requires_grad_(True)
        for s in range(args.samples):
            model.load_state_dict({n: v[s] for n, v in posterior.items()})
            (grad,) = torch.autograd.grad(loss(model(xr), y), xr)

    floor()  # warm up
    t_floor = timed(floor) * args.steps
    settings = dict(attack="pgd", epsilon=0.25, steps=args.steps, step_size=0.01,
                    random_start=True, generator=torch.Generator().manual_seed(0))  # fmt: skip
    stack = Posterior(model, posterior)
    attack(stack, x[:50], y[:50], **{**settings, "steps": 1})  # warm up
    t_ours = timed(
        lambda: attack(stack, x, y, batch_size=args.images, chunk=args.chunk, **settings)
    )

    apgd = dict(attack="apgd_dlr", epsilon=0.25, steps=args.steps,
                generator=torch.Generator().manual_seed(0))  # fmt: skip
    attack(stack, x[:50], y[:50], **{**apgd, "steps": 1})  # warm up
    t_apgd = timed(lambda: attack(stack, x, y, batch_size=args.images, chunk=args.chunk, **apgd))

    def naive():
        for s in range(args.naive_samples):
            model.load_state_dict({n: v[s] for n, v in posterior.items()})
            adversary = PGD(model, torch.nn.CrossEntropyLoss(reduction="none"), 0.0, 1.0)
            adversary.perturb(x, 0.25, 0.01, args.steps, y, random_start=True)

    t_naive = timed(naive) * args.samples / args.naive_samples
    n_adv = args.images
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.arch}-"
        f"{args.hidden}, {args.samples} samples, {args.images} images, {args.steps} PGD steps"
    )
    print(f"floor (steps x samples fwd+bwd): {t_floor:.2f} s = {n_adv / t_floor:.1f} adv/s")
    print(
        f"ours (expected gradient, vmap):  {t_ours:.2f} s = {n_adv / t_ours:.1f} adv/s, "
        f"{t_floor / t_ours:.2f}x the floor's speed (goal >= 0.8)"
    )
    print(
        f"APGD-DLR (torchattacks, log predictive): {t_apgd:.2f} s, "
        f"{t_apgd / t_floor:.2f}x the floor's cost (goal <= 1.25)"
    )
    print(f"naive captum loop over samples:  {t_naive:.2f} s (extrapolated from "
          f"{args.naive_samples} samples) = {n_adv / t_naive:.1f} adv/s; ours is "
          f"{t_naive / t_ours:.1f}x faster")  # fmt: skip


if __name__ == "__main__":
    main()
