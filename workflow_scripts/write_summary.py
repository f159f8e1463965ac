"""The report's first page: a plain-language answer and the verdict on every claim."""

from pathlib import Path

import pandas as pd

from bayeslrp import io
from bayeslrp.runtime import configure_logging, job
from bayeslrp.summary_text import summary_page

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
inp = snakemake.input

sensitivity = pd.read_csv(inp.sensitivity) if inp.get("sensitivity") else None
geometry = None
if inp.get("geometry_claims"):
    geometry = pd.read_csv(inp.geometry_claims), pd.read_csv(inp.geometry)
stability = None
if inp.get("stability_claims"):
    stability = pd.read_csv(inp.stability_claims), pd.read_csv(inp.stability)
faithfulness = None
if inp.get("faithfulness_claims"):
    faithfulness = pd.read_csv(inp.faithfulness_claims), pd.read_csv(inp.faithfulness)
page = summary_page(
    pd.read_csv(inp.claims), Path(inp.description).read_text(), snakemake.params.claims,
    pd.read_csv(inp.comparison), pd.read_csv(inp.attacks), sensitivity,
    pd.read_csv(inp.accuracy), pd.read_csv(inp.masking), pd.read_csv(inp.breakdown), geometry,
    stability, faithfulness, pd.read_csv(inp.by_explainer),
)  # fmt: skip
with io.atomic_path(snakemake.output.summary) as tmp:
    Path(tmp).write_text(page)
log.info("wrote %s", snakemake.output.summary)
