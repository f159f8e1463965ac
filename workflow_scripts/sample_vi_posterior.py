"""Draw weight samples from a fitted mean-field guide into the posterior artifact."""

import torch

from bayeslrp import io
from bayeslrp.runtime import configure_logging, job
from bayeslrp.vi import sample_mean_field

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)

guide = io.load_tensors(snakemake.input.guide)
generator = torch.Generator().manual_seed(int(snakemake.wildcards.seed))
samples = sample_mean_field(guide["loc"], guide["scale"], snakemake.params.n_samples, generator)
log.info("drew %d samples of %d parameters", snakemake.params.n_samples, len(samples))
io.save_tensors(samples, snakemake.output.weights)
