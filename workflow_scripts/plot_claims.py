"""Claims figure: each claim's statistic with its interval and verdict."""

import pandas as pd

from bayeslrp.figures import claims_figure, save
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
save(claims_figure(pd.read_csv(snakemake.input.breakdown)), snakemake.output.png,
     snakemake.output.pdf)  # fmt: skip
log.info("wrote %s", snakemake.output.png)
