"""Fit one posterior of a family of names.FITTED (det, ensemble, weight_noise, ...) and
store its weight stack and fit summary."""

from functools import partial

from bayeslrp import io
from bayeslrp.inference import fit_function
from bayeslrp.models import build_model
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import configure_logging, job, resolve_device, seed_everything, set_threads

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
generator = seed_everything(int(snakemake.wildcards.seed))
device = resolve_device(snakemake.params.device)
w, p = snakemake.wildcards, snakemake.params

base = None
if snakemake.input.get("base"):
    base = Posterior.load(snakemake.input.base, w.arch, p.hidden)
log.info("fitting %s_%s (%s) on device %s", w.arch, w.inference, p.settings, device)
posterior, summary = fit_function(w.inference)(
    partial(build_model, w.arch, p.hidden), io.load_tensors(snakemake.input.train), base,
    p.settings, generator=generator, device=device,
)  # fmt: skip
posterior.to("cpu").save(snakemake.output.weights)
io.save_json(summary, snakemake.output.summary)
