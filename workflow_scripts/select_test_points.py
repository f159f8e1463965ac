"""Pick the class-balanced test points every later stage studies."""

from bayeslrp import io
from bayeslrp.data import class_balanced_indices, to_float_images
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)

test = io.load_tensors(snakemake.input.test)
index = class_balanced_indices(test["labels"], snakemake.params.n_points, snakemake.params.seed)
log.info("selected %d test points, per class %s", len(index), test["labels"][index].bincount())
io.save_tensors(
    {
        "images": to_float_images(test["images"][index]),
        "labels": test["labels"][index],
        "index": index,
    },
    snakemake.output.points,
)
