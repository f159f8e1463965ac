"""One HMC/NUTS chain over one network's weights: chain `c` of a full_data posterior, or
the chain on batch `c` of the per_batch protocol. Chains are jobs of their own so that they
run in parallel on a workstation's cores and a cluster's nodes; merge_hmc_chains pools
them."""

from bayeslrp import io
from bayeslrp.data import training_subset
from bayeslrp.hmc import TRAINED_INITS, batch_rows, chain_seed, draws_per_batch, sample_chain
from bayeslrp.models import build_model
from bayeslrp.runtime import (
    configure_logging,
    execution_setting,
    job,
    resolve_device,
    seed_everything,
    set_threads,
)

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
seed, chain = int(snakemake.wildcards.seed), int(snakemake.wildcards.chain)
seed_everything(seed)  # the net's initialisation (init: small) is the seed's, every chain's
device = resolve_device(snakemake.params.device)
h = snakemake.params.hmc

images, labels = training_subset(io.load_tensors(snakemake.input.train), h["train_size"], device)
num_samples = h["num_samples"]
if h["protocol"] == "per_batch":  # this chain conditions on one shuffled batch
    batches = batch_rows(len(labels), h["batch_size"], seed)
    rows = batches[chain].to(device)
    images, labels = images[rows], labels[rows]
    num_samples = draws_per_batch(h["num_samples"], len(batches))
net = build_model(snakemake.wildcards.arch, snakemake.params.hidden).to(device)

init_weights = None
if h["init"] in TRAINED_INITS:  # a trained net: det, or ensemble member c mod M
    start = io.load_tensors(snakemake.input.start)
    members = len(next(iter(start.values())))
    init_weights = {k: v[chain % members].to(device) for k, v in start.items()}
log.info("%s chain %d for %s on %d images, %d draws, init %s, device %s", h["kernel"], chain,
         snakemake.wildcards.arch, len(labels), num_samples, h["init"], device)  # fmt: skip
draws, stats = sample_chain(
    net, images, labels, seed=chain_seed(seed, h["protocol"], chain), warmup=h["warmup"],
    num_samples=num_samples, thinning=h["thinning"], kernel=h["kernel"],
    max_tree_depth=h["max_tree_depth"], num_steps=h["num_steps"], step_size=h["step_size"],
    target_accept=h["target_accept"], prior_scale=h["prior_scale"], init=h["init"],
    log_every=execution_setting(snakemake, "hmc", "log_every"), init_weights=init_weights,
    label=chain,
)  # fmt: skip
io.save_tensors(draws, snakemake.output.draws)
io.save_json({**stats, "chain": chain, "train_size": len(labels)}, snakemake.output.summary)
