"""Sample the posterior of one network's weights with HMC/NUTS on a training subset."""

import time

from bayeslrp import io
from bayeslrp.convergence import (
    POINTS,
    chain_major,
    function_space_statistics,
    true_class_probabilities,
)
from bayeslrp.data import to_float_images, training_subset
from bayeslrp.hmc import run_hmc, run_hmc_per_batch
from bayeslrp.models import build_model
from bayeslrp.posterior import Posterior, drop_invalid_samples, sample_std, std_by_layer
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
seed = int(snakemake.wildcards.seed)
seed_everything(seed)
device = resolve_device(snakemake.params.device)
h = snakemake.params.hmc

images, labels = training_subset(io.load_tensors(snakemake.input.train), h["train_size"], device)
size = len(labels)
net = build_model(snakemake.wildcards.arch, snakemake.params.hidden).to(device)
log.info("%s for %s on %d images, device %s", h["kernel"], snakemake.wildcards.arch, size, device)

init_weights = None
if h["init"] == "det_weights":  # start at the trained deterministic net of this seed
    det = io.load_tensors(snakemake.input.det)
    init_weights = {k: v[0].to(device) for k, v in det.items()}
settings = dict(
    warmup=h["warmup"], thinning=h["thinning"], kernel=h["kernel"],
    max_tree_depth=h["max_tree_depth"], num_steps=h["num_steps"], step_size=h["step_size"],
    target_accept=h["target_accept"], prior_scale=h["prior_scale"], init=h["init"],
    log_every=execution_setting(snakemake, "hmc", "log_every"), init_weights=init_weights,
)  # fmt: skip
start = time.perf_counter()
if h["protocol"] == "per_batch":
    posterior, diagnostics = run_hmc_per_batch(
        net, images, labels, batch_size=h["batch_size"], num_samples=h["num_samples"],
        seed=seed, **settings,
    )  # fmt: skip
else:
    posterior, diagnostics = run_hmc(
        net, images, labels, num_samples=h["num_samples"], num_chains=h["num_chains"],
        seed=seed, **settings,
    )  # fmt: skip
seconds = time.perf_counter() - start

# Convergence in function space: do the chains agree on p(true class | x) for test images?
# (Before invalid draws are dropped: the chain layout needs every draw; a NaN draw makes
# its points' R-hat undefined.) Per-batch chains see different data, so their disagreement
# is not a convergence test: skipped there.
function_space = {}
if h["protocol"] == "full_data" and h["num_samples"] >= 4:
    test = io.load_tensors(snakemake.input.test)
    x, y = to_float_images(test["images"][:POINTS]).to(device), test["labels"][:POINTS].to(device)
    p_true = true_class_probabilities(Posterior(net, posterior).to(device), x, y).cpu()
    function_space = function_space_statistics(chain_major(p_true, h["num_chains"]))
    log.info("function space, p(true class) on %d test images over %d chain(s): split R-hat "
             "median %.3f, max %.3f, %.0f%% above 1.1; ESS min %.1f",
             len(y), h["num_chains"], function_space["fs_rhat_median"],
             function_space["fs_rhat_max"],
             100 * function_space["fs_rhat_above_threshold_fraction"],
             function_space["fs_ess_min"])  # fmt: skip
posterior, invalid = drop_invalid_samples(posterior, snakemake.output.weights)
if invalid:
    log.warning("dropped %d samples holding NaN or infinite weights", invalid)

chains = diagnostics.pop("chains")
statistics = {
    **diagnostics,
    **function_space,
    "acceptance_rate": sum(c["acceptance_rate"] for c in chains) / len(chains),
    "step_size": sum(c["step_size"] for c in chains) / len(chains),
    "divergences": sum(c["divergences"] for c in chains),
    "invalid_samples": invalid,
    "train_size": size,
    "seconds": seconds,
}
io.save_tensors(posterior, snakemake.output.weights)
io.save_json(
    {"statistics": statistics, "layers": std_by_layer(sample_std(posterior)), "chains": chains},
    snakemake.output.summary,
)
