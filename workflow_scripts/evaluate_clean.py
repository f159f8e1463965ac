"""What every attack's evaluation needs on the clean test points, once per model and n:
the predictive probabilities, the gradient-masking diagnostics at the clean inputs and
the gradient x input baseline's clean heatmaps (generate_attack's evaluation reads them
instead of recomputing them for each attack)."""

import torch

from bayeslrp import io
from bayeslrp.baselines import gradient_x_input
from bayeslrp.diagnostics import gradient_masking
from bayeslrp.models import split_model_name
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import chunk_setting, configure_logging, job, set_threads

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
arch, _ = split_model_name(w.model)

full = Posterior.load(snakemake.input.weights, arch, p.hidden)
points = io.load_tensors(snakemake.input.points)
x, labels = points["images"], points["labels"]
# this job runs on the CPU
chunk = chunk_setting(snakemake, "attacks", arch, "cpu")
tensors = {}
for n in p.n_samples:
    posterior = full.take(n)
    p_clean = posterior.predict_proba(x)
    diagnostics = gradient_masking(posterior, x, labels, p.loss, chunk)
    log.info("n=%d: %s", n, diagnostics)
    masking = {name: torch.tensor(value, dtype=torch.float64)
               for name, value in diagnostics.items()}  # fmt: skip
    tensors |= io.nest(io.samples_key(n), {
        "p_clean": p_clean,
        "baseline_gradient_x_input_clean": gradient_x_input(posterior, x, p_clean.argmax(1)),
        **io.nest("masking", masking),
    })  # fmt: skip
io.save_tensors(tensors, snakemake.output.evaluation)
