"""Which HMC setting buys function-space convergence cheapest? One setting per call.

Runs `--chains` chains of NUTS (the pipeline's `hmc.sample_chain`, the seeds the workflow
uses) on the first `--images` MNIST training images for fc-`--hidden`, then prints the
function-space split R-hat and ESS of p(true class | x) on 1,000 test images, the pooled
predictive accuracy, seconds, and function-space effective samples (median ESS) per minute.

Usage: python benchmarks/bench_hmc_convergence.py --data results/datasets/mnist \
    [--init small|ensemble] [--prior-scale 1.0] [--warmup 50] [--samples 100] [--depth 5]
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import torch

from bayeslrp import io
from bayeslrp.convergence import chain_major, function_space_statistics, true_class_probabilities
from bayeslrp.data import to_float_images, training_subset
from bayeslrp.hmc import chain_seed, sample_chain, stack_chains
from bayeslrp.inference import fit_function
from bayeslrp.models import build_model
from bayeslrp.posterior import Posterior, interleave


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, help="folder with train.pt and test.pt")
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--chains", type=int, default=3)
    parser.add_argument("--init", default="small", choices=["small", "ensemble"])
    parser.add_argument("--prior-scale", type=float, default=1.0)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--depth", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--log-every", type=int, default=1000, help="iterations per log line")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(1)
    device = torch.device(args.device)
    train, test = (io.load_tensors(f"{args.data}/{s}.pt") for s in ("train", "test"))
    x, y = training_subset(train, args.images, device)

    def build():
        return build_model("fc", args.hidden).to(device)

    starts = [None] * args.chains
    if args.init == "ensemble":  # the pipeline's ensemble: det nets on all 60,000 images
        det = {"epochs": 2, "lr": 1e-3, "batch_size": 128, "train_size": None}
        torch.manual_seed(args.seed)
        members, _ = fit_function("ensemble")(
            build, train, None, {"det": det, "ensemble": {"members": args.chains}},
            generator=torch.Generator().manual_seed(args.seed), device=device,
        )  # fmt: skip
        starts = [{k: v[c].to(device) for k, v in members.samples.items()}
                  for c in range(args.chains)]  # fmt: skip
    chains, seconds = [], 0.0
    for c in range(args.chains):
        torch.manual_seed(args.seed)
        start = time.perf_counter()
        draws, _ = sample_chain(
            build(), x, y, seed=chain_seed(args.seed, "full_data", c), warmup=args.warmup,
            num_samples=args.samples, thinning=1, kernel="nuts", max_tree_depth=args.depth,
            num_steps=1, step_size=1e-3, target_accept=0.8, prior_scale=args.prior_scale,
            init=args.init, log_every=args.log_every, init_weights=starts[c], label=c,
        )  # fmt: skip
        seconds += time.perf_counter() - start
        chains.append(draws)
    stacked = stack_chains(chains)
    xt = to_float_images(test["images"][:1000]).to(device)
    yt = test["labels"][:1000].to(device)
    posterior = Posterior(build(), interleave(stacked)).to(device)
    p_true = chain_major(true_class_probabilities(posterior, xt, yt).cpu(), args.chains)
    stats = function_space_statistics(p_true)
    accuracy = posterior.predict_proba(xt).argmax(-1).eq(yt).double().mean().item()
    print(json.dumps({
        **vars(args), **stats, "card": torch.cuda.get_device_name() if device.type == "cuda"
        else "cpu", "accuracy": accuracy, "seconds": seconds,
        "fs_ess_median_per_minute": 60 * stats["fs_ess_median"] / seconds,
        "weight_abs_mean": torch.cat([v.abs().flatten() for v in stacked.values()]).mean().item(),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
