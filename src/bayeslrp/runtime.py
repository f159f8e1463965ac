"""Process-level setup shared by the workflow scripts: logging, seeding, devices, threads."""

from __future__ import annotations

import importlib
import logging
import os
import random
import sys

import numpy as np
import torch

from bayeslrp.deferred_dynamo import defer_dynamo_import


def job(namespace: dict):
    """The job's `snakemake` object: the one Snakemake injects into a script's globals,
    or, for a script run by hand (`python workflow_scripts/<script>.py TARGET`), one built
    from the workflow for the job that writes TARGET (see `bayeslrp.mock`).

    Every script calls it first, so it also keeps `torch.func` from importing
    `torch._dynamo` (1.6 s a job; see `bayeslrp.deferred_dynamo`)."""
    defer_dynamo_import()
    if "snakemake" in namespace:
        return namespace["snakemake"]
    # Imported by name: a job never runs this, and the rules' code inputs (derived from the
    # imports) should not list mock.py, whose edits would otherwise rerun every rule.
    return importlib.import_module("bayeslrp.mock").job_from_argv(sys.argv[1:])


def configure_logging(snakemake) -> logging.Logger:
    """Send log records and any uncaught traceback to the rule's log file.

    Called first in every workflow script, so a failing job explains itself in
    `logs/<rule>/...` rather than in the scheduler's interleaved stderr.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if snakemake.log:
        handlers.append(logging.FileHandler(str(snakemake.log[0]), mode="w"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    log = logging.getLogger(snakemake.rule)

    def log_uncaught(kind, value, tb):
        log.error("uncaught exception", exc_info=(kind, value, tb))

    sys.excepthook = log_uncaught
    return log


def execution_setting(snakemake, *keys: str):
    """A speed or progress setting (chunk sizes, the LRP backend, log intervals).

    Read from the config rather than passed as a rule's params: Snakemake reruns a job when
    its params change, and these change how fast or how verbosely a result is computed,
    not what it is (the tests check that both LRP backends and every chunk size agree).
    """
    value = snakemake.config
    for key in keys:
        value = value[key]
    return value


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch, ask torch for deterministic kernels, return a generator.

    Pyro draws from torch's global generator, so seeding torch seeds Pyro as well.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # cuBLAS is only deterministic with a fixed workspace; must be set before first use.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    use_deterministic_kernels()
    return torch.Generator().manual_seed(seed)


def use_deterministic_kernels() -> None:
    """`torch.use_deterministic_algorithms(True, warn_only=True)` without its import of
    `torch._inductor`.

    The public call imports `torch._inductor.config` to set a flag that only
    `torch.compile` reads; that import took 1.3 s of a 3.5 s attack job here (torch 2.14,
    every job of the workflow pays it once). Nothing here compiles, so set the kernels'
    flag alone, and inductor's too where something has already imported it.
    """
    set_flag = getattr(torch._C, "_set_deterministic_algorithms", None)
    if set_flag is None:  # a torch without the private setter: the public call, slower
        torch.use_deterministic_algorithms(True, warn_only=True)
        return
    set_flag(True, warn_only=True)
    inductor_config = sys.modules.get("torch._inductor.config")
    if inductor_config is not None:
        inductor_config.deterministic = True


# Posterior draws per vmap batch where a chunk setting is "auto": for an fc net or on a GPU,
# and for a conv net on a CPU, where vmap over draws gains little (each conv becomes a
# grouped conv): benchmarks/bench_chunk.py measured a 5-step PGD 1.27x faster as a plain
# loop than at 16, and the heatmaps 1.3x faster at 4 than at 8 (conv-16, 50 draws, 2 cores).
VECTORISED_CHUNK = {"attacks": 16, "explainers": 8}
CPU_CONV_CHUNK = {"attacks": 1, "explainers": 4}


def chunk_size(value: int | str, section: str, arch: str, device: torch.device) -> int:
    """The chunk setting of `section` (attacks, explainers) resolved for one net: an
    integer as given; "auto" = CPU_CONV_CHUNK[section] for a conv net on a CPU, else
    VECTORISED_CHUNK[section]."""
    if value != "auto":
        return int(value)
    if arch == "conv" and torch.device(device).type == "cpu":
        return CPU_CONV_CHUNK[section]
    return VECTORISED_CHUNK[section]


def chunk_setting(snakemake, section: str, arch: str, device: torch.device) -> int:
    """The job's `<section>.chunk` (an execution setting) resolved by chunk_size."""
    return chunk_size(execution_setting(snakemake, section, "chunk"), section, arch, device)


def resolve_device(name: str) -> torch.device:
    """Map the config's `device` (auto | cpu | cuda) to a torch device."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            "config sets device: cuda but torch sees no CUDA device; "
            "set device: auto or cpu, or run on a GPU node"
        )
    if name == "cuda":
        full_precision()
    return torch.device(name)


def full_precision() -> None:
    """No TF32 in CUDA convolutions and matrix products (cuDNN uses it by default).

    Its 10-bit mantissa changes which unit is the most active and which pixel gradients
    are near zero: on an H100, conv heatmaps of the same posterior differed from the CPU's
    by up to 35 % of their scale and FGSM flipped 0.5 % of pixels with TF32, against
    float32 rounding without it (benchmarks/bench_gpu.py).
    """
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False


def set_threads(threads: int) -> None:
    """Use exactly the cores Snakemake gave this job, so parallel jobs do not oversubscribe."""
    torch.set_num_threads(max(1, int(threads)))
