"""Train one deterministic network and store it as a posterior with S = 1."""

import time

from bayeslrp import io
from bayeslrp.data import training_subset
from bayeslrp.inference import train_deterministic
from bayeslrp.models import build_model
from bayeslrp.posterior import from_state_dict
from bayeslrp.runtime import configure_logging, job, resolve_device, seed_everything, set_threads

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
generator = seed_everything(int(snakemake.wildcards.seed))
device = resolve_device(snakemake.params.device)
p = snakemake.params

images, labels = training_subset(io.load_tensors(snakemake.input.train), p.train_size, device)
size = len(labels)
model = build_model(snakemake.wildcards.arch, p.hidden)
log.info("training %s on %d images, device %s", snakemake.wildcards.arch, size, device)

start = time.perf_counter()
losses = train_deterministic(
    model, images, labels, epochs=p.epochs, lr=p.lr, batch_size=p.batch_size,
    generator=generator, device=device,
)  # fmt: skip
seconds = time.perf_counter() - start

state = {name: value.cpu() for name, value in model.state_dict().items()}
io.save_tensors(from_state_dict(state), snakemake.output.weights)
io.save_json(
    {
        "statistics": {"loss_final": losses[-1], "train_size": size, "seconds": seconds},
        "loss_per_epoch": losses,
    },
    snakemake.output.summary,
)
