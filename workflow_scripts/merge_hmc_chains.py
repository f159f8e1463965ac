"""Pool the chain jobs of one HMC posterior into its weight stack (posterior.spread_order):
round-robin over chains (or per-batch runs), spread over each chain's length. Convergence
in function space is judged by judge_hmc_convergence, from the same chains."""

from bayeslrp import io
from bayeslrp.hmc import mixing_diagnostics, pool_batches, stack_chains
from bayeslrp.posterior import drop_invalid_samples, interleave, sample_std, std_by_layer
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
seed = int(snakemake.wildcards.seed)
h = snakemake.params.hmc

stacked = stack_chains([io.load_tensors(path) for path in snakemake.input.chains])
chains = [io.load_json(path) for path in snakemake.input.summaries]
per_batch = h["protocol"] == "per_batch"
posterior = pool_batches(stacked, h["num_samples"]) if per_batch else interleave(stacked)
posterior, invalid = drop_invalid_samples(posterior, snakemake.output.weights)
if invalid:
    log.warning("dropped %d samples holding NaN or infinite weights", invalid)

statistics = {
    **mixing_diagnostics(stacked, seed),  # weight space: secondary (see convergence.py)
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
log.info("pooled %d chain(s) into %d samples: %s", len(chains), len(next(iter(posterior.values()))),
         statistics)  # fmt: skip
io.save_tensors({k: v.contiguous() for k, v in posterior.items()}, snakemake.output.weights)
io.save_json(
    {"statistics": statistics, "layers": std_by_layer(sample_std(posterior)), "chains": chains},
    snakemake.output.summary,
)
