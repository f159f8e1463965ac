"""Fit a mean-field variational posterior over every weight of one network."""

import time

from bayeslrp import io
from bayeslrp.data import training_subset
from bayeslrp.models import build_model
from bayeslrp.posterior import std_by_layer
from bayeslrp.runtime import configure_logging, job, resolve_device, seed_everything, set_threads
from bayeslrp.vi import fit_vi

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
generator = seed_everything(int(snakemake.wildcards.seed))
device = resolve_device(snakemake.params.device)
p = snakemake.params

images, labels = training_subset(io.load_tensors(snakemake.input.train), p.train_size, device)
size = len(labels)
net = build_model(snakemake.wildcards.arch, p.hidden).to(device)
log.info("VI (%s) for %s on %d images, device %s", p.backend, snakemake.wildcards.arch, size,
         device)

start = time.perf_counter()
locs, scales, elbos = fit_vi(
    net, images, labels, epochs=p.epochs, lr=p.lr, batch_size=p.batch_size,
    num_particles=p.num_particles, init_scale=p.init_scale, prior_scale=p.prior_scale,
    generator=generator, guide_init=p.guide_init, backend=p.backend,
)  # fmt: skip
seconds = time.perf_counter() - start

io.save_tensors(
    {
        "loc": {k: v.cpu() for k, v in locs.items()},
        "scale": {k: v.cpu() for k, v in scales.items()},
    },
    snakemake.output.guide,
)
io.save_json(
    {
        "statistics": {"elbo_final": elbos[-1], "train_size": size, "seconds": seconds},
        "layers": std_by_layer(scales),
        "elbo_per_epoch": elbos,
    },
    snakemake.output.summary,
)
