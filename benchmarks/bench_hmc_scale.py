"""What HMC on the study's full 60,000 training images costs, per device and width.

One HMC leapfrog step is one gradient of the potential (full-batch negative log
likelihood plus the N(0, 1) prior) over every weight. This measures, for the fc net at
several widths H, the seconds per potential gradient (Pyro's `potential_grad` of
`bayes.bayesian_model`, what `hmc.run_hmc` runs) beside a plain forward + backward of the
same batch (the floor), and the wall time that implies for the paper's run: 100 warmup +
100 draws of NUTS, whose trajectories take up to 2^depth - 1 leapfrog steps (depth 10
is NUTS' default cap; the default config caps it at 5). Data are random: the cost does
not depend on the pixels.

Usage: python benchmarks/bench_hmc_scale.py [--images 60000] [--hidden 128 512 1024]
       [--devices cuda cpu] [--out hmc_scale.json]
"""

from __future__ import annotations

import argparse
import json
import time

import torch
from pyro.infer.mcmc.util import initialize_model
from pyro.ops.integrator import potential_grad

from bayeslrp import build_model
from bayeslrp.bayes import bayesian_model, initial_values


def best_of(fn, device, repeats=3):
    fn()  # warm up allocator and kernels
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(hidden: int, images: int, device: torch.device) -> dict:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(images, 1, 28, 28, generator=g).to(device)
    y = torch.randint(0, 10, (images,), generator=g).to(device)
    net = build_model("fc", hidden).to(device)

    def floor():
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y, reduction="sum").backward()

    model = bayesian_model(net, 1.0)
    _, potential_fn, _, _ = initialize_model(model, model_args=(x, y))
    z = {k: v.detach().to(device) for k, v in initial_values(net).items()}
    t_floor = best_of(floor, device)
    t_grad = best_of(lambda: potential_grad(potential_fn, z), device)
    iterations = 200  # the paper's 100 warmup + 100 draws
    return {"device": torch.cuda.get_device_name(0) if device.type == "cuda" else
            f"cpu ({torch.get_num_threads()} threads)", "hidden": hidden, "images": images,
            "weights": sum(p.numel() for p in net.parameters()),
            "seconds_forward_backward": t_floor, "seconds_potential_gradient": t_grad,
            "ratio_to_floor": t_grad / t_floor,
            "paper_hmc_hours_depth5": iterations * 31 * t_grad / 3600,
            "paper_hmc_hours_depth10": iterations * 1023 * t_grad / 3600}  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60000)
    parser.add_argument("--hidden", type=int, nargs="+", default=[128, 512, 1024])
    parser.add_argument("--devices", nargs="+", default=["cuda", "cpu"])
    parser.add_argument("--out", default="hmc_scale.json")
    args = parser.parse_args()
    rows = []
    for name in args.devices:
        if name == "cuda" and not torch.cuda.is_available():
            continue
        for hidden in args.hidden:
            rows.append(measure(hidden, args.images, torch.device(name)))
            print(rows[-1], flush=True)
            with open(args.out, "w") as f:
                json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
