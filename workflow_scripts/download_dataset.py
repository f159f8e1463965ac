"""Find or download one dataset, verify its checksums, cache train/test tensors."""

from bayeslrp import io
from bayeslrp.data import load_dataset
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)

arrays, provenance = load_dataset(
    snakemake.wildcards.dataset,
    sources=snakemake.params.sources,
    search_paths=snakemake.params.search_paths,
    download_dir=snakemake.params.download_dir,
    timeout=snakemake.params.timeout,
)
log.info("source used: %s (%s)", provenance["source"], provenance["location"])
for split in ("train", "test"):
    io.save_tensors(
        {"images": arrays[f"{split}_images"], "labels": arrays[f"{split}_labels"].long()},
        snakemake.output[split],
    )
io.save_json(provenance, snakemake.output.source)
