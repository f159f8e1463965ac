"""Atomic reads and writes of the pipeline's artifacts.

Every artifact is written to a temporary file in its own folder and then renamed, so a
killed job never leaves a half-written file under the name a later rule would trust.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # pandas costs ~0.3 s of start-up; only table-writing jobs import it
    import pandas as pd


def _umask() -> int:
    # The only portable way to read the umask is to set it; set it straight back.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside `path`; rename it onto `path` only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A job killed with SIGKILL cannot clean up; its rerun removes what it left.
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink(missing_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp creates 0600 files and the mode survives the rename: give the artifact
        # the mode an ordinary `open` would (0666 minus the umask), so that a group or a
        # cluster's other users can read the results.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _write(path, writer: Callable[[Path], None]) -> None:
    with atomic_path(path) as tmp:
        writer(tmp)


def save_tensors(obj: dict, path) -> None:
    """`torch.save` a dict of tensors and plain values, atomically."""
    _write(path, lambda tmp: torch.save(obj, tmp))


def load_tensors(path) -> dict:
    """Load an artifact written by `save_tensors`; only tensors and plain values allowed."""
    return torch.load(path, weights_only=True, map_location="cpu")


def save_json(obj, path) -> None:
    _write(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n"))


def load_json(path):
    return json.loads(Path(path).read_text())


def save_csv(frame: pd.DataFrame, path) -> None:
    # A fixed float format keeps tables byte-identical across reruns on one machine.
    _write(path, lambda tmp: frame.to_csv(tmp, index=False, float_format="%.6g"))


def save_bytes(data: bytes, path) -> None:
    _write(path, lambda tmp: tmp.write_bytes(data))


def samples_key(n: int) -> str:
    """The key of one number of samples in an attack artifact, which holds every n of one
    model and attack (one job, not one per n: a job's start-up costs more than most
    attacks here)."""
    return f"samples{n}"


def relevance_key(explainer: str, layer: int, n: int) -> str:
    """The key of one (explainer, layer, n) run in a relevance artifact, which holds every
    explainer, layer and number of samples of one model and attack (one job, not one per
    explainer: a job's start-up costs more than most of its heatmaps)."""
    return f"{explainer}/layer{layer}/{samples_key(n)}"


def spread_key(explainer: str, layer: int, n: int) -> str:
    """The key of the per-pixel posterior std of the clean heatmaps over n draws at one
    layer, beside their means (`relevance_key`) in the clean-heatmap artifact."""
    return f"{explainer}/layer{layer}/std_{samples_key(n)}"


def nest(key: str, tensors: dict) -> dict:
    """`tensors` under `key/` (the inverse of `section`)."""
    return {f"{key}/{name}": value for name, value in tensors.items()}


def section(tensors: dict, key: str) -> dict:
    """The entries `key/<name>` of a multi-run artifact, as `<name>`."""
    prefix = key + "/"
    found = {k.removeprefix(prefix): v for k, v in tensors.items() if k.startswith(prefix)}
    if not found:
        raise KeyError(f"no entries under {key!r}; the artifact holds {sorted(tensors)[:6]}..., "
                       f"written by an older version of its rule: rerun it")  # fmt: skip
    return found
