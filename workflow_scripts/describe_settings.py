"""Table of this run's settings beside the paper's, so the report says what was scaled."""

import yaml

from bayeslrp import io
from bayeslrp.runtime import configure_logging, job
from bayeslrp.tables import settings_comparison

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)

presets = {}
for key in ("defaults", "paper"):
    with open(snakemake.input[key]) as handle:
        presets[key] = yaml.safe_load(handle)
table = settings_comparison(snakemake.params.settings, presets["paper"], presets["defaults"])
log.info("%d settings differ from the paper's", int(table["differs_from_paper"].sum()))
io.save_csv(table, snakemake.output.settings)
