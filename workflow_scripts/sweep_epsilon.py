"""Success of the sweep's attack against the L-inf radius, for one model at its largest n."""

from bayeslrp import io
from bayeslrp.epsilon_sweep import sweep
from bayeslrp.io import atomic_path
from bayeslrp.models import split_model_name
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import (
    chunk_setting,
    configure_logging,
    job,
    resolve_device,
    seed_everything,
    set_threads,
)

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
seed_everything(int(w.seed))
device = resolve_device(p.device)
arch, inference = split_model_name(w.model)

posterior = Posterior.load(snakemake.input.weights, arch, p.hidden, device).take(p.n)
points = io.load_tensors(snakemake.input.points)
count = min(p.sweep["points"], len(points["labels"]))
x, y = points["images"][:count].to(device), points["labels"][:count].to(device)
log.info("%s against %s n=%d on %d points at epsilon %s", p.sweep["attack"], w.model, p.n,
         count, p.sweep["epsilons"])  # fmt: skip
table = sweep(
    posterior, x, y, attack=p.sweep["attack"], epsilons=p.sweep["epsilons"],
    settings=p.settings, generator_seed=int(w.seed), log=log, bayes=p.bayes, loss=p.loss,
    chunk=chunk_setting(snakemake, "attacks", arch, device),
)  # fmt: skip
keys = {"dataset": w.dataset, "arch": arch, "inference": inference, "seed": int(w.seed),
        "attack": p.sweep["attack"], "n_samples": p.n}  # fmt: skip
table = table.assign(**keys)[[*keys, *table.columns]]
with atomic_path(snakemake.output[0]) as tmp:
    table.to_csv(tmp, index=False)
