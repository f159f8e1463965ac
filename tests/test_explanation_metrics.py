"""The explanation-metric registry and the rank-correlation metrics, against scipy."""

import numpy as np
import pytest
import torch
from scipy.stats import rankdata, spearmanr

from bayeslrp import names
from bayeslrp.explanation_metrics import REGISTRY, mean_over_samples, score
from bayeslrp.rank_correlation import average_ranks, kendall, spearman
from bayeslrp.topk import overlap


def _tied_heatmaps(generator, n=40):
    """Heatmaps like LRP's: many exactly-zero pixels, few distinct values (ties)."""
    values = torch.randint(-3, 4, (n, 1, 28, 28), generator=generator).float()
    keep = torch.rand(n, 1, 28, 28, generator=generator) < 0.3
    return values * keep


def test_average_ranks_match_scipys_rankdata():
    heat = _tied_heatmaps(torch.Generator().manual_seed(0)).flatten(1)
    expected = np.stack([rankdata(row, method="average") for row in heat.numpy()])
    assert np.array_equal(average_ranks(heat).numpy(), expected)


@pytest.mark.parametrize("mode", ["signed", "absolute"])
def test_spearman_matches_scipy_with_ties(mode):
    generator = torch.Generator().manual_seed(1)
    clean, adversarial = _tied_heatmaps(generator), _tied_heatmaps(generator)
    adversarial[:20] = clean[:20] + 0.5 * adversarial[:20]  # correlated pairs too
    got = spearman(clean, adversarial, mode).numpy()
    transform = np.abs if mode == "absolute" else (lambda a: a)
    expected = [spearmanr(transform(c.ravel()), transform(a.ravel())).statistic
                for c, a in zip(clean.numpy(), adversarial.numpy(), strict=True)]  # fmt: skip
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert got[:20].mean() > got[20:].mean()  # the correlated pairs rank alike


def test_spearman_of_a_constant_heatmap_is_undefined_and_of_itself_is_one():
    heat = _tied_heatmaps(torch.Generator().manual_seed(2), n=3)
    heat[1] = 0.0  # all zero: no ranking
    rho = spearman(heat, heat)
    assert rho[0].item() == pytest.approx(1.0) and rho[2].item() == pytest.approx(1.0)
    assert rho[1].isnan()
    with pytest.raises(ValueError, match="metrics.spearman.mode 'split'"):
        spearman(heat, heat, "split")


def tau_b_from_the_definition(x: torch.Tensor, y: torch.Tensor) -> float:
    """sum_ij s_x s_y / sqrt(sum_ij s_x^2 sum_ij s_y^2), s(i, j) = sign(v_i - v_j) over all
    ordered pairs: a pair tied in one ranking counts in neither the numerator nor that
    ranking's norm (tau-b's tie correction)."""
    sx, sy = ((v[:, None] - v[None, :]).sign() for v in (x.double(), y.double()))
    return ((sx * sy).sum() / ((sx * sx).sum() * (sy * sy).sum()).sqrt()).item()


@pytest.mark.parametrize("mode", ["signed", "absolute"])
def test_kendall_matches_tau_b_from_its_definition_with_ties(mode):
    generator = torch.Generator().manual_seed(5)
    clean, adversarial = _tied_heatmaps(generator), _tied_heatmaps(generator)
    adversarial[:20] = clean[:20] + 0.5 * adversarial[:20]
    got = kendall(clean, adversarial, mode).numpy()
    transform = torch.abs if mode == "absolute" else (lambda a: a)
    expected = [tau_b_from_the_definition(transform(c.flatten()), transform(a.flatten()))
                for c, a in zip(clean, adversarial, strict=True)]  # fmt: skip
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    assert got[:20].mean() > got[20:].mean()


def test_kendall_of_a_constant_heatmap_is_undefined_of_itself_one_and_of_a_reversal_minus_one():
    heat = torch.randn(3, 1, 28, 28, generator=torch.Generator().manual_seed(6))
    heat[1] = 0.0
    tau = kendall(heat, heat)
    assert tau[0].item() == pytest.approx(1.0) and tau[2].item() == pytest.approx(1.0)
    assert tau[1].isnan()
    assert kendall(heat[[0]], -heat[[0]]).item() == pytest.approx(-1.0)
    assert kendall(heat[:0], heat[:0]).shape == (0,)
    with pytest.raises(ValueError, match="metrics.kendall.mode 'split'"):
        kendall(heat, heat, "split")


def test_the_registry_scores_every_label_in_order():
    generator = torch.Generator().manual_seed(3)
    clean, adversarial = _tied_heatmaps(generator, 5), _tied_heatmaps(generator, 5)
    settings = {"topk_overlap": {"k": [10, 30], "mode": "signed"}, "spearman": {}}
    scores = score(settings, clean, adversarial)
    assert list(scores) == [names.topk_label(10), names.topk_label(30), "spearman"]
    assert torch.equal(scores["top30_overlap"], overlap(clean, adversarial, 30).double())
    assert torch.equal(scores["spearman"], spearman(clean, adversarial))
    assert tuple(REGISTRY) == names.METRICS and names.STUDY_METRIC in REGISTRY
    with pytest.raises(ValueError, match="unknown metric 'pearson'"):
        score({"pearson": {}}, clean, adversarial)


def test_the_mean_over_samples_skips_samples_whose_score_is_undefined():
    generator = torch.Generator().manual_seed(4)
    clean = _tied_heatmaps(generator, 6).reshape(2, 3, 1, 28, 28)  # [S=2, N=3, ...]
    adversarial = _tied_heatmaps(generator, 6).reshape(2, 3, 1, 28, 28)
    clean[1, 0] = 0.0  # sample 1's clean heatmap of point 0 is constant: rho undefined
    means = mean_over_samples([(clean[:1], adversarial[:1]), (clean[1:], adversarial[1:])],
                              {"spearman": {}})  # fmt: skip
    per_sample = torch.stack([spearman(c, a) for c, a in zip(clean, adversarial, strict=True)])
    assert means["spearman"][0].item() == pytest.approx(per_sample[0, 0].item())
    assert torch.allclose(means["spearman"][1:], per_sample[:, 1:].mean(0))


@pytest.mark.filterwarnings("ignore:One or more sample arguments is too small")
def test_kendall_is_scipys_kendalltau_bit_for_bit():
    # The batched Knight's algorithm against scipy per point: ties in one heatmap, the other
    # or both, sizes off a power of two, a single pixel and a constant heatmap.
    from scipy.stats import kendalltau

    generator = torch.Generator().manual_seed(8)
    for pixels in (1, 2, 3, 7, 64, 100, 784):
        clean = torch.randint(0, 5, (30, pixels), generator=generator).double()
        adversarial = torch.randn(30, pixels, generator=generator, dtype=torch.float64)
        adversarial[10:20] = torch.randint(0, 3, (10, pixels), generator=generator).double()
        adversarial[20:] = clean[20:] + 0.1 * adversarial[20:].round()
        clean[0] = 1.0
        got = kendall(clean, adversarial).numpy()
        expected = [kendalltau(c, a).statistic for c, a in zip(clean.numpy(), adversarial.numpy(),
                                                                  strict=True)]  # fmt: skip
        np.testing.assert_array_equal(got, np.array(expected), err_msg=f"{pixels} pixels")
