"""What a small job pays before its work: a fresh interpreter that imports torch, seeds as
every job does, and takes one vmapped input gradient of an fc net over 4 draws (what an
attack's evaluation does first), with torch's own lazy imports and with the job set-up
of bayeslrp.runtime (deferred torch._dynamo, the deterministic flag without inductor).

Each variant runs `--repeats` times, alternating, and the best CPU time counts (the
machine's other load only adds). Goal: the job set-up at most 0.7x torch's own.

    .venv/bin/python benchmarks/bench_job_startup.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys

JOB = """
import sys, torch
from torch.func import functional_call, grad, vmap
{setup}
net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 512), torch.nn.LeakyReLU(),
                          torch.nn.Linear(512, 10))
draws = {{k: v.expand(4, *v.shape).clone() for k, v in net.state_dict().items()}}
x = torch.rand(100, 1, 28, 28)
score = lambda params, inputs: functional_call(net, params, (inputs,)).max(1).values.sum()
gradients = vmap(grad(score, argnums=1), in_dims=(0, None))(draws, x)
assert gradients.shape == (4, 100, 1, 28, 28)
print("torch._dynamo" in sys.modules)
"""

VARIANTS = {
    "torch's own": "torch.manual_seed(0); torch.use_deterministic_algorithms(True, warn_only=True)",
    "job set-up": "from bayeslrp.runtime import job, seed_everything\n"
    "job({'snakemake': None}); seed_everything(0)",
}


def child_cpu_seconds(setup: str) -> tuple[float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([sys.executable, "-c", JOB.format(setup=setup)], check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    best, dynamo = {}, {}
    for _ in range(args.repeats):
        for name, setup in VARIANTS.items():
            cpu, out = child_cpu_seconds(setup)
            best[name] = min(best.get(name, float("inf")), cpu)
            dynamo[name] = out
    for name in VARIANTS:
        print(f"{name:12s} {best[name]:5.2f} CPU-s   torch._dynamo imported: {dynamo[name]}")
    ratio = best["job set-up"] / best["torch's own"]
    verdict = "met" if ratio <= 0.7 else "MISSED"
    print(f"job set-up / torch's own: {ratio:.2f}x (goal <= 0.7x: {verdict})")


if __name__ == "__main__":
    main()
