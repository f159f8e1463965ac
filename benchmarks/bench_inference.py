"""Speed of Bayesian inference against its physical floor, as ratios measured in one run.

1. HMC potential-gradient cost / one plain forward+backward of the same batch (goal <= 1.1).
2. NUTS vs fixed-length HMC: effective samples per second (min ESS over a fixed subset).
3. VI epoch time / deterministic epoch time, same architecture and data, for each VI
   backend (goal <= 2).

Usage: python benchmarks/bench_inference.py [--images 10000] [--hidden 512]
"""

from __future__ import annotations

import argparse
import time

import torch
from pyro.infer.mcmc.util import initialize_model
from pyro.ops.integrator import potential_grad

from bayeslrp import build_model
from bayeslrp.bayes import bayesian_model, initial_values
from bayeslrp.hmc import run_hmc
from bayeslrp.inference import train_deterministic
from bayeslrp.vi import VI_BACKENDS, fit_vi


def best_of(fn, repeats=5):
    fn()  # warm up allocator and kernels
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def potential_gradient_ratio(x, y, hidden):
    net = build_model("fc", hidden)
    model = bayesian_model(net, 1.0)
    init_params, potential_fn, _, _ = initialize_model(model, model_args=(x, y))
    z = {k: v.detach() for k, v in initial_values(net).items()}

    def floor():
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y, reduction="sum").backward()

    t_floor = best_of(floor)
    t_potential = best_of(lambda: potential_grad(potential_fn, z))
    return t_floor, t_potential


def ess_per_second(x, y, hidden, kernel):
    torch.manual_seed(0)
    net = build_model("fc", hidden)
    start = time.perf_counter()
    _, diagnostics = run_hmc(
        net, x, y, warmup=50, num_samples=50, thinning=1, num_chains=1, kernel=kernel,
        max_tree_depth=5, num_steps=16, step_size=1e-3, target_accept=0.8, prior_scale=1.0,
        init="small", seed=0, log_every=1000,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    return diagnostics["ess_min"], seconds, diagnostics["chains"][0]["acceptance_rate"]


def epoch_ratio(x, y, arch, hidden, backend):
    g = torch.Generator().manual_seed(0)
    det = lambda: train_deterministic(  # noqa: E731
        build_model(arch, hidden), x, y, epochs=1, lr=1e-3, batch_size=128, generator=g,
        device=torch.device("cpu"),
    )  # fmt: skip
    vi = lambda: fit_vi(  # noqa: E731
        build_model(arch, hidden), x, y, epochs=1, lr=1e-2, batch_size=128, num_particles=1,
        init_scale=0.01, prior_scale=1.0, generator=g, backend=backend,
    )  # fmt: skip
    return best_of(det, 2), best_of(vi, 2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--nuts-images", type=int, default=1000)
    parser.add_argument("--nuts-hidden", type=int, default=64)
    args = parser.parse_args()
    torch.manual_seed(0)
    x = torch.rand(args.images, 1, 28, 28)
    y = torch.randint(0, 10, (args.images,))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    t_floor, t_potential = potential_gradient_ratio(x, y, args.hidden)
    print(f"[1] fc-{args.hidden}, {args.images} images: forward+backward {t_floor * 1e3:.1f} ms, "
          f"Pyro potential gradient {t_potential * 1e3:.1f} ms, ratio {t_potential / t_floor:.2f}"
          f" (goal <= 1.1)")  # fmt: skip

    xs, ys = x[: args.nuts_images], y[: args.nuts_images]
    for kernel in ("nuts", "hmc"):
        ess, seconds, accept = ess_per_second(xs, ys, args.nuts_hidden, kernel)
        print(f"[2] {kernel} fc-{args.nuts_hidden}, {args.nuts_images} images, 50+50 iterations: "
              f"min ESS {ess:.1f} in {seconds:.1f} s = {ess / seconds:.2f} ESS/s, "
              f"acceptance {accept:.2f}")  # fmt: skip

    for arch in ("fc", "conv"):
        hidden = args.hidden if arch == "fc" else 64
        for backend in VI_BACKENDS:
            t_det, t_vi = epoch_ratio(x, y, arch, hidden, backend)
            print(f"[3] {arch}-{hidden}, {args.images} images: det epoch {t_det:.2f} s, "
                  f"VI ({backend}) epoch {t_vi:.2f} s, ratio {t_vi / t_det:.2f} "
                  f"(goal <= 2)")  # fmt: skip


if __name__ == "__main__":
    main()
