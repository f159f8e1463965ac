"""The LRP rules beyond epsilon (lrp_rules.py) against lrp.py's epsilon rule and zennit.

One posterior, the same images, the output layer. Prints, per explainer: heatmaps per
second vectorised over draws; that against native epsilon-LRP (a modified gradient: the
fastest LRP here); and against zennit looping over draws (images batched) and image by
image and draw by draw (extrapolated from a subset). Goal (issue #20): >= 10x faster than
zennit per image and per draw.

Usage: python benchmarks/bench_lrp_rules.py [--arch fc conv] [--samples 20] [--images 200]
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from bayeslrp import build_model, explainers
from bayeslrp.posterior import Posterior


def timed(fn, *args, repeat=1):
    start = time.perf_counter()
    for _ in range(repeat):
        fn(*args)
    return (time.perf_counter() - start) / repeat


def zennit_composite(name):
    from zennit.composites import EpsilonGammaBox, LayerMapComposite
    from zennit.rules import Gamma, Pass, ZPlus
    from zennit.types import Activation

    if name == "lrp_epsilon_gamma_box":
        return EpsilonGammaBox(low=0.0, high=1.0)
    rule = Gamma() if name == "lrp_gamma" else ZPlus()
    return LayerMapComposite([(Activation, Pass()), ((nn.Linear, nn.Conv2d), rule)])


def zennit_loop(name, stack, x, target, images_per_call):
    """zennit, one draw at a time, `images_per_call` images per call."""
    net = stack.network
    composite = zennit_composite(name)
    for s in range(len(stack)):
        net.load_state_dict(stack.sample(s))
        for start in range(0, len(x), images_per_call):
            inputs = x[start : start + images_per_call].clone().requires_grad_(True)
            with composite.context(net) as hooked:
                out = hooked(inputs)
                seed = nn.functional.one_hot(target[start : start + images_per_call], 10)
                torch.autograd.grad(out, inputs, grad_outputs=seed.to(out.dtype))


def bench(arch, args):
    hidden = args.hidden if arch == "fc" else args.hidden // 8
    torch.manual_seed(0)
    nets = [build_model(arch, hidden).state_dict() for _ in range(args.samples)]
    stack = Posterior(build_model(arch, hidden), {k: torch.stack([n[k] for n in nets])
                                                  for k in nets[0]})  # fmt: skip
    x = torch.rand(args.images, 1, 28, 28)
    target = stack.predict_proba(x).argmax(1)
    layer = len(stack.network) - 1
    heatmaps = args.samples * args.images

    def ours(name):
        return lambda: explainers.sample_heatmaps(name, stack, x, layer=layer, target=target,
                                                  chunk=args.chunk)  # fmt: skip

    ours("lrp")()  # warm up
    t_eps = timed(ours("lrp"), repeat=2)
    print(f"{arch}-{hidden}: native epsilon-LRP {heatmaps / t_eps:.0f} heatmaps/s")
    for name in ("lrp_gamma", "lrp_zplus", "lrp_epsilon_gamma_box"):
        t_ours = timed(ours(name), repeat=2)
        t_batched = timed(zennit_loop, name, stack, x, target, args.images)
        few = Posterior(stack.network, {k: v[:1] for k, v in stack.samples.items()})
        calls = args.zennit_calls
        t_single = timed(zennit_loop, name, few, x[:calls], target[:calls], 1)
        t_single *= heatmaps / calls
        print(f"  {name}: {heatmaps / t_ours:.0f} heatmaps/s, {t_eps / t_ours:.2f}x native "
              f"epsilon's throughput; zennit over draws (images batched) "
              f"{t_batched / t_ours:.1f}x slower, image by image and draw by draw "
              f"{t_single / t_ours:.0f}x slower (goal >= 10)")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", choices=["fc", "conv"], nargs="+", default=["fc", "conv"])
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=8)
    parser.add_argument("--zennit-calls", type=int, default=20, help="image-by-image calls timed")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.samples} "
          f"draws, {args.images} images, output layer")  # fmt: skip
    for arch in args.arch:
        bench(arch, args)


if __name__ == "__main__":
    main()
