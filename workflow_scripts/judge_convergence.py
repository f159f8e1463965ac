"""Judge one MCMC posterior's convergence in function space, from its chains: do they agree
on p(true class | x) for test images, and on the quantity under study, each draw's top-k
overlap with the mean LRP heatmap? HMC's chains come as one draws file per chain job;
SG-MCMC's as its stored posterior (chains interleaved in posterior.spread_order) and the
chain count of its fit summary."""

import pandas as pd

from bayeslrp import io
from bayeslrp.convergence import (
    HEATMAP_EPSILON,
    HEATMAP_K,
    HEATMAP_POINTS,
    POINTS,
    chain_major,
    function_space_statistics,
    heatmap_agreement,
    heatmap_space_statistics,
    per_point_statistics,
    trace_points,
    true_class_probabilities,
)
from bayeslrp.data import to_float_images
from bayeslrp.hmc import stack_chains
from bayeslrp.lrp import sample_relevance
from bayeslrp.models import build_model, output_layer
from bayeslrp.posterior import Posterior, interleave
from bayeslrp.runtime import configure_logging, job, resolve_device, set_threads

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
arch = snakemake.wildcards.arch

if snakemake.input.get("chains"):
    # every draw, NaN ones included (the chain layout needs all; a NaN draw makes its
    # points' R-hat undefined)
    draws = interleave(stack_chains([io.load_tensors(path) for path in snakemake.input.chains]))
    chains = len(snakemake.input.chains)
else:
    draws = io.load_tensors(snakemake.input.weights)
    chains = io.load_json(snakemake.input.summary)["statistics"]["chains"]
pooled = Posterior(build_model(arch, snakemake.params.hidden), draws).to(device)
test = io.load_tensors(snakemake.input.test)
x, y = to_float_images(test["images"][:POINTS]).to(device), test["labels"][:POINTS].to(device)
p_true = chain_major(true_class_probabilities(pooled, x, y).cpu(), chains)
statistics = function_space_statistics(p_true)
rhat, ess = per_point_statistics(p_true)
log.info("function space, p(true class) on %d test images over %d chain(s): split R-hat "
         "median %.3f, max %.3f, %.0f%% above 1.1; ESS min %.1f", len(y), chains,
         statistics["fs_rhat_median"], statistics["fs_rhat_max"],
         100 * statistics["fs_rhat_above_threshold_fraction"],
         statistics["fs_ess_min"])  # fmt: skip

xh = x[:HEATMAP_POINTS]
predicted = pooled.predict_proba(xh).argmax(-1)  # the posterior's class, as the study explains
heatmaps = sample_relevance(pooled, xh, layer=output_layer(arch), target=predicted,
                            epsilon=HEATMAP_EPSILON)  # fmt: skip
agreement = heatmap_agreement(heatmaps.flatten(2).cpu(), HEATMAP_K)
statistics.update(heatmap_space_statistics(chain_major(agreement, chains)))
log.info("heatmap space, top-%d overlap with the mean heatmap on %d test images: split R-hat "
         "median %.3f, %.0f%% above 1.1", HEATMAP_K, len(xh), statistics["hs_rhat_median"],
         100 * statistics["hs_rhat_above_threshold_fraction"])  # fmt: skip

points = pd.DataFrame({"point": range(len(y)), "rhat": rhat.numpy(), "ess": ess.numpy(),
                       "p_true_mean": p_true.mean((0, 1)).numpy()})  # fmt: skip
trace = pd.DataFrame(
    [{"point": p, "rhat": rhat[p].item(), "chain": c, "draw": d, "p_true": p_true[c, d, p].item()}
     for p in trace_points(rhat) for c in range(chains) for d in range(p_true.shape[1])],
    columns=["point", "rhat", "chain", "draw", "p_true"],
)  # fmt: skip
io.save_json({"statistics": statistics}, snakemake.output.statistics)
io.save_csv(points, snakemake.output.points)
io.save_csv(trace, snakemake.output.trace)
