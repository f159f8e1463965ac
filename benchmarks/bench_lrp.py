"""Bayesian LRP throughput against plain gradient x input and against captum image by image.

All three explain the same layers of the same posterior samples on the same images
(clean + adversarial, every learnable layer). Goals: native >= 0.8x the throughput of
vectorised gradient x input (the floor: one forward + backward), and >= 20x captum's LRP
called image by image, sample by sample (extrapolated from a subset).

Usage: python benchmarks/bench_lrp.py [--arch fc] [--samples 100] [--images 500]
(the defaults are smaller so that both architectures take a few minutes on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.func import functional_call, grad, vmap

from bayeslrp import build_model
from bayeslrp.lrp import captum_lrp, sample_relevance
from bayeslrp.models import LEARNABLE_LAYERS
from bayeslrp.posterior import Posterior


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def gradient_times_input(model, posterior, x, layer, chunk):
    """Floor: vectorised gradient x input of the same explained unit (max activation)."""
    head = torch.nn.Sequential(*list(model)[: layer + 1])

    def score(params, inputs):
        sub = {k: v for k, v in params.items() if int(k.split(".")[0]) <= layer}
        return functional_call(head, sub, (inputs,)).flatten(1).amax(1).sum()

    gradient = vmap(grad(score, argnums=1), in_dims=(0, None))
    for start in range(0, next(iter(posterior.values())).shape[0], chunk):
        gradient({k: v[start : start + chunk] for k, v in posterior.items()}, x) * x


def bench(arch, args):
    hidden = args.hidden if arch == "fc" else args.hidden // 8
    torch.manual_seed(0)
    model = build_model(arch, hidden)
    nets = [build_model(arch, hidden).state_dict() for _ in range(args.samples)]
    posterior = {k: torch.stack([n[k] for n in nets]) for k in nets[0]}
    stack = Posterior(model, posterior)
    inputs = [torch.rand(args.images, 1, 28, 28) for _ in range(2)]
    layers = LEARNABLE_LAYERS[arch]
    heatmaps = args.samples * args.images * 2 * len(layers)

    def native():
        for x in inputs:
            for layer in layers:
                sample_relevance(stack, x, layer=layer, chunk=args.chunk)

    def floor():
        for x in inputs:
            for layer in layers:
                gradient_times_input(model, posterior, x, layer, args.chunk)

    one = {k: v[0] for k, v in posterior.items()}

    def captum():
        for i in range(args.captum_calls):
            x = inputs[0][i % args.images : i % args.images + 1]
            captum_lrp(model, one, x, layers[i % len(layers)], 0.1)

    sample_relevance(stack, inputs[0][:10], layer=layers[-1], chunk=args.chunk)  # warm up
    t_native, t_floor = timed(native), timed(floor)
    t_captum = timed(captum) * heatmaps / args.captum_calls
    print(f"{arch}-{hidden}: native {heatmaps / t_native:.0f} heatmaps/s ({t_native:.1f} s); "
          f"gradient x input {heatmaps / t_floor:.0f}/s; native/floor throughput "
          f"{t_floor / t_native:.2f} (goal >= 0.8); captum image by image "
          f"{heatmaps / t_captum:.1f}/s (from {args.captum_calls} calls): native is "
          f"{t_captum / t_native:.0f}x faster (goal >= 20)")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=["fc", "conv"], nargs="+", default=["fc", "conv"])
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=8)
    parser.add_argument("--captum-calls", type=int, default=20, help="image x sample calls timed")
    args = parser.parse_args()
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.samples} "
        f"samples, {args.images} images x 2 (clean + adversarial), every learnable layer"
    )
    for arch in args.arch:
        bench(arch, args)


if __name__ == "__main__":
    main()
