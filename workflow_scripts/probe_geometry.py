"""The study's mechanism measured for one model (geometry.py): the normal fraction of the
input gradient of the predicted logit and of the epsilon-LRP heatmap (output layer) at
each test point, for one draw and for the mean over each n of n_samples."""

import time

from bayeslrp import io
from bayeslrp.data import training_subset
from bayeslrp.geometry import logit_gradients, probe, tangent_bases
from bayeslrp.lrp import sample_relevance
from bayeslrp.models import output_layer, split_model_name
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import configure_logging, job, resolve_device, set_threads

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
device = resolve_device(p.device)
arch, inference = split_model_name(w.model)
counts = sorted({1, *p.n_samples})

posterior = Posterior.load(snakemake.input.weights, arch, p.hidden, device).take(max(counts))
x = io.load_tensors(snakemake.input.points)["images"].to(device)
train, _ = training_subset(io.load_tensors(snakemake.input.train), p.geometry["train_size"],
                           device)  # fmt: skip
start = time.perf_counter()
bases, dims = tangent_bases(x.flatten(1), train.flatten(1),
                            p.geometry["neighbours"], p.geometry["variance"])  # fmt: skip
log.info("tangent spaces of %d points from %d neighbours among %d training images: dimension "
         "median %d (range %d-%d), %.1f s", len(x), p.geometry["neighbours"], len(train),
         dims.median(), dims.min(), dims.max(), time.perf_counter() - start)  # fmt: skip

# every draw explains the class the model predicts with all its draws, as the study does
target = posterior.predict_proba(x).argmax(1)
start = time.perf_counter()
vectors = {
    "gradient": logit_gradients(posterior, x, target).detach(),
    "lrp": sample_relevance(posterior, x, layer=output_layer(arch), target=target,
                            epsilon=p.epsilon).detach(),  # fmt: skip
}
log.info("gradients and heatmaps of %d draws x %d points in %.1f s", len(posterior), len(x),
         time.perf_counter() - start)  # fmt: skip
rows = probe({k: v.cpu() for k, v in vectors.items()}, bases.cpu(), dims.cpu(), counts)
rows.insert(0, "seed", int(w.seed))
rows.insert(0, "inference", inference)
rows.insert(0, "arch", arch)
rows.insert(0, "dataset", w.dataset)
for (quantity, n), part in rows.groupby(["quantity", "n_samples"]):
    log.info("%s, n = %d: normal fraction median %.3f (random direction %.3f)", quantity, n,
             part["normal_fraction"].median(), part["random_normal_fraction"].median())
io.save_csv(rows, snakemake.output.table)
