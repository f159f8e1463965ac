"""One variant of the sensitivity study: the whole workflow, nested, in its own directory."""

import subprocess
import sys
from pathlib import Path

import yaml

from bayeslrp import io
from bayeslrp.runtime import configure_logging, job

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
p, variant = snakemake.params, snakemake.wildcards.variant
# Absolute: the nested run starts in the project directory (for its profile), not here.
workdir = Path(snakemake.output.claims).resolve().parents[2]  # results/sensitivity/<variant>
workdir.mkdir(parents=True, exist_ok=True)
config = workdir / "config.yaml"
with io.atomic_path(config) as tmp:
    Path(tmp).write_text(yaml.safe_dump(dict(p.settings), sort_keys=True))

targets = [str(Path(path).resolve().relative_to(workdir)) for path in snakemake.output]
command = [sys.executable, "-m", "snakemake", "-s", p.snakefile, "--directory", str(workdir),
           "--configfile", str(config), "--cores", str(snakemake.threads),
           "--rerun-incomplete", *targets]  # fmt: skip
log.info("variant %s: %s", variant, " ".join(command))
# cwd = the project, so the nested run picks up profiles/default like a run by hand.
with open(snakemake.log[0], "a") as out:
    done = subprocess.run(
        command, cwd=Path(p.snakefile).parent, stdout=out, stderr=subprocess.STDOUT
    )
if done.returncode:
    raise RuntimeError(f"sensitivity variant {variant} failed (exit {done.returncode}); "
                       f"its log is above in {snakemake.log[0]}")  # fmt: skip
