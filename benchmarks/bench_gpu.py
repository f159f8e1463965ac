"""CUDA check and paper-scale timings of everything after the posterior.

Needs torch and pandas only (no pyro, captum or snakemake), so it runs on a bare GPU
machine with `PYTHONPATH=src python benchmarks/bench_gpu.py`.

1. Agreement: the predictive, epsilon-LRP and gradient x input heatmaps of every layer,
   and FGSM, computed on the CPU and on CUDA (float32) for the same random posterior,
   with cuDNN's TF32 (its default) and without (what runtime.resolve_device sets).
2. Paper scale on CUDA (configs/paper.yaml: H = 1024 fc, 512 conv; 100 samples; 500
   points): predictive, PGD 40 x 0.01, clean + adversarial heatmaps of every learnable
   layer (LRP and gradient x input), and LRP's throughput for several `chunk` sizes.
3. The same stages on the CPU for a slice (fewer points), in the same run: the ratio.

Weights are random: the cost does not depend on training. Writes a JSON to --out.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from bayeslrp import build_model
from bayeslrp.attacks import run_attack
from bayeslrp.explainers import bayesian_heatmaps
from bayeslrp.models import LEARNABLE_LAYERS
from bayeslrp.posterior import Posterior


def random_posterior(arch: str, hidden: int, samples: int, seed: int = 0) -> Posterior:
    torch.manual_seed(seed)
    nets = [build_model(arch, hidden).state_dict() for _ in range(samples)]
    return Posterior(build_model(arch, hidden), {k: torch.stack([n[k] for n in nets])
                                                 for k in nets[0]})  # fmt: skip


def timed(fn, device):
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, out


def stages(posterior, x, y, device, chunk, steps):
    """Seconds of each post-posterior stage for one model, on `device`."""
    posterior, x, y = posterior.to(device), x.to(device), y.to(device)
    n = len(posterior)
    arch = "fc" if isinstance(posterior.network[0], torch.nn.Flatten) else "conv"
    out = {}
    out["predictive"], proba = timed(lambda: posterior.predict_proba(x), device)
    settings = dict(attack="pgd", epsilon=0.25, steps=steps, step_size=0.01, random_start=True,
                    generator=torch.Generator().manual_seed(0), chunk=chunk,
                    batch_size=len(x))  # fmt: skip
    out[f"pgd{steps}"], result = timed(lambda: run_attack(posterior, x, y, **settings), device)
    x_adv = result["adversarial"]
    for name in ("lrp", "gradient_x_input"):
        total = 0.0
        for layer in LEARNABLE_LAYERS[arch]:
            targets = None
            if layer == LEARNABLE_LAYERS[arch][-1]:
                targets = {n: proba.argmax(1)}
            for inputs in (x, x_adv):
                explain = (name, posterior, inputs, layer, [n], targets)
                seconds, _ = timed(lambda e=explain: bayesian_heatmaps(*e, chunk=chunk), device)
                total += seconds
        out[f"{name}_all_layers"] = total
    return out


def set_tf32(allow: bool) -> None:
    torch.backends.cudnn.allow_tf32 = allow
    torch.backends.cuda.matmul.allow_tf32 = allow


def agreement(arch, hidden):
    posterior = random_posterior(arch, hidden, 8, seed=1)
    x = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(2))
    cuda = torch.device("cuda")
    gpu = posterior.to(cuda)
    difference = posterior.predict_proba(x) - gpu.predict_proba(x.to(cuda)).cpu()
    report = {"predictive_max_abs_diff": difference.abs().max().item()}
    for name in ("lrp", "gradient_x_input"):
        worst = 0.0
        for layer in LEARNABLE_LAYERS[arch]:
            cpu = bayesian_heatmaps(name, posterior, x, layer, [8], chunk=4)[8]
            dev = bayesian_heatmaps(name, gpu, x.to(cuda), layer, [8], chunk=4)[8].cpu()
            worst = max(worst, ((cpu - dev).abs().max() / cpu.abs().max()).item())
        report[f"{name}_max_rel_diff"] = worst
    y = posterior.predict_proba(x).argmax(1)
    fgsm = dict(attack="fgsm", epsilon=0.25, chunk=4)
    a = run_attack(posterior, x, y, **fgsm)["adversarial"]
    b = run_attack(gpu, x.to(cuda), y.to(cuda), **fgsm)["adversarial"].cpu()
    report["fgsm_pixels_equal"] = (a == b).double().mean().item()
    return report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--images", type=int, default=500)
    parser.add_argument("--cpu-images", type=int, default=20)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--out", default="gpu_bench.json")
    args = parser.parse_args()
    cuda = torch.device("cuda")
    results = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
               "cpu_threads": torch.get_num_threads(), "agreement": {}, "timings": []}  # fmt: skip
    for arch, hidden in (("fc", 1024), ("conv", 512)):
        for tf32 in (True, False):  # cuDNN's default, and the pipeline's (runtime.full_precision)
            set_tf32(tf32)
            key = f"{arch}_tf32_{'on' if tf32 else 'off'}"
            results["agreement"][key] = agreement(arch, 32 if arch == "conv" else 128)
            print(key, "agreement", results["agreement"][key], flush=True)
        posterior = random_posterior(arch, hidden, args.samples)
        g = torch.Generator().manual_seed(3)
        x = torch.rand(args.images, 1, 28, 28, generator=g)
        y = torch.randint(0, 10, (args.images,), generator=g)
        stages(posterior, x[:10], y[:10], cuda, 25, 1)  # warm up
        for chunk, tf32 in ((10, False), (25, False), (100, False), (25, True)):
            set_tf32(tf32)
            row = {"arch": arch, "hidden": hidden, "samples": args.samples, "device": "cuda",
                   "tf32": tf32, "images": args.images, "chunk": chunk,
                   **stages(posterior, x, y, cuda, chunk, args.steps)}  # fmt: skip
            results["timings"].append(row)
            print(row, flush=True)
        set_tf32(False)
        row = {"arch": arch, "hidden": hidden, "samples": args.samples, "device": "cpu",
               "images": args.cpu_images, "chunk": 10,
               **stages(posterior, x[: args.cpu_images], y[: args.cpu_images],
                        torch.device("cpu"), 10, args.steps)}  # fmt: skip
        results["timings"].append(row)
        print(row, flush=True)
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
