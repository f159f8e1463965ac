"""Pool the chain jobs of one HMC posterior into its weight stack (posterior.spread_order)
and judge convergence in function space: do the chains agree on p(true class | x) for
test images?"""

import pandas as pd

from bayeslrp import io
from bayeslrp.convergence import (
    POINTS,
    chain_major,
    function_space_statistics,
    per_point_statistics,
    trace_points,
    true_class_probabilities,
)
from bayeslrp.data import to_float_images
from bayeslrp.hmc import mixing_diagnostics, pool_batches, stack_chains
from bayeslrp.models import build_model
from bayeslrp.posterior import (
    Posterior,
    drop_invalid_samples,
    interleave,
    sample_std,
    std_by_layer,
)
from bayeslrp.runtime import configure_logging, job, resolve_device, set_threads

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
seed = int(snakemake.wildcards.seed)
device = resolve_device(snakemake.params.device)
h = snakemake.params.hmc

stacked = stack_chains([io.load_tensors(path) for path in snakemake.input.chains])
chains = [io.load_json(path) for path in snakemake.input.summaries]
per_batch = h["protocol"] == "per_batch"
posterior = pool_batches(stacked, h["num_samples"]) if per_batch else interleave(stacked)
diagnostics = mixing_diagnostics(stacked, seed)
net = build_model(snakemake.wildcards.arch, snakemake.params.hidden)

# Function space. (Before invalid draws are dropped: the chain layout needs every draw; a
# NaN draw makes its points' R-hat undefined.) Per-batch chains see different data, so
# their disagreement is not a convergence test: skipped there.
function_space, points, trace = {}, pd.DataFrame(), pd.DataFrame()
per_chain = next(iter(stacked.values())).shape[1]
if not per_batch and per_chain >= 4:
    test = io.load_tensors(snakemake.input.test)
    x, y = to_float_images(test["images"][:POINTS]).to(device), test["labels"][:POINTS].to(device)
    pooled = Posterior(net, interleave(stacked)).to(device)
    p_true = chain_major(true_class_probabilities(pooled, x, y).cpu(), len(chains))
    function_space = function_space_statistics(p_true)
    rhat, ess = per_point_statistics(p_true)
    points = pd.DataFrame({"point": range(len(y)), "rhat": rhat.numpy(), "ess": ess.numpy(),
                           "p_true_mean": p_true.mean((0, 1)).numpy()})  # fmt: skip
    shown = trace_points(rhat)
    trace = pd.DataFrame([
        {"point": p, "rhat": rhat[p].item(), "chain": c, "draw": d,
         "p_true": p_true[c, d, p].item()}
        for p in shown for c in range(p_true.shape[0]) for d in range(p_true.shape[1])
    ])  # fmt: skip
    log.info("function space, p(true class) on %d test images over %d chain(s): split R-hat "
             "median %.3f, max %.3f, %.0f%% above 1.1; ESS min %.1f",
             len(y), len(chains), function_space["fs_rhat_median"],
             function_space["fs_rhat_max"],
             100 * function_space["fs_rhat_above_threshold_fraction"],
             function_space["fs_ess_min"])  # fmt: skip
posterior, invalid = drop_invalid_samples(posterior, snakemake.output.weights)
if invalid:
    log.warning("dropped %d samples holding NaN or infinite weights", invalid)

statistics = {
    **diagnostics,
    **function_space,
    "acceptance_rate": sum(c["acceptance_rate"] for c in chains) / len(chains),
    "step_size": sum(c["step_size"] for c in chains) / len(chains),
    "divergences": sum(c["divergences"] for c in chains),
    "invalid_samples": invalid,
    "train_size": sum(c["train_size"] for c in chains) if per_batch else chains[0]["train_size"],
    # wall time of the chains one after another (they may have run in parallel)
    "seconds": sum(c["seconds"] for c in chains),
}
if per_batch:
    statistics["batches"] = len(chains)
io.save_tensors({k: v.contiguous() for k, v in posterior.items()}, snakemake.output.weights)
io.save_json(
    {"statistics": statistics, "layers": std_by_layer(sample_std(posterior)), "chains": chains},
    snakemake.output.summary,
)
columns = {"points": ["point", "rhat", "ess", "p_true_mean"],
           "trace": ["point", "rhat", "chain", "draw", "p_true"]}  # fmt: skip
io.save_csv(points.reindex(columns=columns["points"]), snakemake.output.points)
io.save_csv(trace.reindex(columns=columns["trace"]), snakemake.output.trace)
