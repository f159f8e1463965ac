"""Figures that must draw for every run the config allows, e.g. one of single networks."""

import pandas as pd
import pytest

from bayeslrp.figures import accuracy_and_success, save


@pytest.mark.parametrize("ns", [[1], [1, 10, 100]])
def test_accuracy_and_success_draws_for_any_set_of_n(tmp_path, ns):
    """A run of det nets alone has n = 1 only (a log axis of zero width once failed)."""
    rows = [{"dataset": "mnist", "arch": "fc", "inference": "det" if n == 1 else "vi",
             "n_samples": n, "seed": 0} for n in ns]  # fmt: skip
    accuracy = pd.DataFrame(rows).assign(test_accuracy=0.9)
    attacks = pd.DataFrame(rows).assign(attack="fgsm", success_rate=0.5)
    png, pdf = tmp_path / "figure.png", tmp_path / "figure.pdf"
    save(accuracy_and_success(accuracy, attacks), str(png), str(pdf))
    assert png.stat().st_size > 0 and pdf.stat().st_size > 0


def test_save_writes_plotnines_png_byte_for_byte(tmp_path):
    """save draws once for every path; the PNG is what plotnine's own save writes."""
    rows = [{"dataset": "mnist", "arch": "fc", "inference": inference, "n_samples": n,
             "seed": 0} for inference, n in [("det", 1), ("vi", 10), ("vi", 100)]]  # fmt: skip
    accuracy = pd.DataFrame(rows).assign(test_accuracy=[0.9, 0.8, 0.85])
    attacks = pd.DataFrame(rows).assign(attack="fgsm", success_rate=[0.5, 0.3, 0.2])
    plot = accuracy_and_success(accuracy, attacks)
    ours, pdf, plotnines = tmp_path / "ours.png", tmp_path / "ours.pdf", tmp_path / "theirs.png"
    save(plot, str(ours), str(pdf))
    plot.save(plotnines, dpi=150, verbose=False)
    assert ours.read_bytes() == plotnines.read_bytes()
    assert pdf.read_bytes().startswith(b"%PDF")
