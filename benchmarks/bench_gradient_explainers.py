"""The gradient-based explainers' Bayesian mean against captum called image by image and
draw by draw (#20's speed goal: >= 10x).

For gradient x input, integrated gradients and SmoothGrad: the mean heatmap over S draws
of N images at the output layer (explainers.bayesian_heatmaps, the workflow's call: one
vectorised pass over the draws), against captum's InputXGradient, IntegratedGradients
(Gauss-Legendre, the same steps) and NoiseTunnel(Saliency) (the same noisy copies) on one
image and one draw's network per call, extrapolated from `--captum-calls` calls to the
S x N maps. Both sides are timed in the same run on the same machine; the ratio is the
result, not the seconds.

Usage: python benchmarks/bench_gradient_explainers.py [--arch fc conv] [--samples 10]
"""

from __future__ import annotations

import argparse
import time

import torch
from captum.attr import InputXGradient, IntegratedGradients, NoiseTunnel, Saliency

from bayeslrp import build_model
from bayeslrp.explainers import bayesian_heatmaps
from bayeslrp.models import output_layer
from bayeslrp.posterior import Posterior

GOAL = 10.0


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def captum_call(name, net, x, target, settings):
    """One captum explanation of one image by one network, as the workflow defines it."""
    if name == "gradient_x_input":
        return InputXGradient(net).attribute(x.requires_grad_(True), target=target)
    if name == "integrated_gradients":
        return IntegratedGradients(net).attribute(x, target=target, n_steps=settings["steps"],
                                                  method="gausslegendre")  # fmt: skip
    return NoiseTunnel(Saliency(net)).attribute(
        x, nt_type="smoothgrad", nt_samples=settings["samples"], stdevs=0.15, target=target,
        abs=False)  # fmt: skip


def bench_one(name, settings, posterior, nets, x, target, layer, args):
    """Seconds of our Bayesian mean over every draw and of captum's S x N calls
    (extrapolated)."""
    maps = args.samples * args.images

    def ours():
        bayesian_heatmaps(name, posterior, x, layer, [args.samples], {args.samples: target},
                          inner_start="max_unit", chunk=args.chunk, **settings)  # fmt: skip

    def captum():
        for i in range(args.captum_calls):
            point, net = i % args.images, nets[i % args.samples]
            captum_call(name, net, x[point : point + 1].clone(), int(target[point]), settings)

    ours()  # warm up
    return timed(ours), timed(captum) * maps / args.captum_calls


def bench(arch, args):
    hidden = args.hidden if arch == "fc" else args.hidden // 8
    torch.manual_seed(0)
    nets = [build_model(arch, hidden) for _ in range(args.samples)]
    state = {k: torch.stack([n.state_dict()[k] for n in nets]) for k in nets[0].state_dict()}
    posterior = Posterior(nets[0], state)
    x = torch.rand(args.images, 1, 28, 28)
    target = posterior.predict_proba(x).argmax(1)
    maps = args.samples * args.images
    own = {"gradient_x_input": {}, "integrated_gradients": {"steps": args.steps},
           "smoothgrad": {"samples": args.noisy}}  # fmt: skip
    for name, settings in own.items():
        t_ours, t_captum = bench_one(name, settings, posterior, nets, x, target,
                                     output_layer(arch), args)
        ratio = t_captum / t_ours
        print(f"{arch}-{hidden} {name}: ours {maps / t_ours:.0f} maps/s ({t_ours:.2f} s for "
              f"{args.samples} draws x {args.images} images); captum image by image and draw "
              f"by draw {maps / t_captum:.1f}/s (from {args.captum_calls} calls): ours is "
              f"{ratio:.0f}x faster (goal >= {GOAL:g}: {'met' if ratio >= GOAL else 'MISSED'})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=["fc", "conv"], nargs="+", default=["fc", "conv"])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--images", type=int, default=100)
    parser.add_argument("--steps", type=int, default=16, help="integrated gradients' points")
    parser.add_argument("--noisy", type=int, default=10, help="SmoothGrad's noisy copies")
    parser.add_argument("--chunk", type=int, default=8)
    parser.add_argument("--captum-calls", type=int, default=30, help="image x draw calls timed")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, output layer, "
          f"ensemble targets")  # fmt: skip
    for arch in args.arch:
        bench(arch, args)


if __name__ == "__main__":
    main()
