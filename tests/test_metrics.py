import pytest
import torch

from bayeslrp.explanation_metrics import mean_over_samples
from bayeslrp.metrics import perturbed, softmax_robustness
from bayeslrp.topk import overlap as lrp_robustness
from bayeslrp.topk import topk_defined, topk_membership


def mean_sample_robustness(pairs, ks, mode="signed"):
    """The per-sample mean top-k overlap at each k, [len(ks), N]."""
    scores = mean_over_samples(pairs, {"topk_overlap": {"k": ks, "mode": mode}})
    return torch.stack(list(scores.values()))


def test_topk_overlap_on_hand_made_heatmaps():
    clean = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0]])
    # top-2 of clean: {0, 1}; of adversarial: {1, 5}; overlap 1 of 2.
    adversarial = torch.tensor([[0.0, 9.0, -1.0, 0.5, 0.2, 8.0]])
    assert lrp_robustness(clean, adversarial, 2).tolist() == [0.5]
    assert lrp_robustness(clean, clean, 3).tolist() == [1.0]
    # top-3 of adversarial {1, 5, 3} vs clean {0, 1, 2}: overlap 1 of 3.
    assert lrp_robustness(clean, adversarial, 3).item() == pytest.approx(1 / 3)


def test_tied_pixels_share_the_remaining_top_k_slots():
    heat = torch.tensor([[-10.0, 1.0, 1.0, 2.0, 0.0]])
    assert topk_membership(heat, 2).tolist() == [[0.0, 0.5, 0.5, 1.0, 0.0]]


def _reference_overlap(clean, adversarial, k, mode, draws, generator):
    """Slow reference from the definition: break ties by a random pixel order, count the
    overlap of the two top-k sets, average over many random orders; NaN where fewer than k
    pixels qualify."""

    def qualified(h):
        pos, neg = (h > 0).sum().item(), (h < 0).sum().item()
        return {"signed": pos >= k, "absolute": (h != 0).sum().item() >= k,
                "split": pos >= k // 2 and neg >= k - k // 2}[mode]  # fmt: skip

    def top(h, order):
        parts = {"signed": [(h, k)], "absolute": [(h.abs(), k)],
                 "split": [(h, k // 2), (-h, k - k // 2)]}[mode]  # fmt: skip
        chosen = set()
        for values, size in parts:
            # rank by value, ties by the random order: sort by (value, -order)
            keys = sorted(range(len(h)), key=lambda i: (-values[i].item(), order[i].item()))
            chosen |= set(keys[:size])
        return chosen

    out = []
    for c, a in zip(clean, adversarial, strict=True):
        if not (qualified(c) and qualified(a)):
            out.append(float("nan"))
            continue
        total = 0
        for _ in range(draws):
            total += len(top(c, torch.randperm(len(c), generator=generator))
                         & top(a, torch.randperm(len(a), generator=generator)))  # fmt: skip
        out.append(total / draws / k)
    return torch.tensor(out, dtype=torch.float64)


@pytest.mark.parametrize("mode", ["signed", "absolute", "split"])
def test_overlap_is_the_expected_overlap_under_random_tie_breaking(mode):
    g = torch.Generator().manual_seed(0)
    # integer-valued heatmaps: many ties, positive, negative and zero pixels
    clean = torch.randint(-2, 4, (40, 12), generator=g).double()
    adversarial = torch.randint(-2, 4, (40, 12), generator=g).double()
    k, draws = 4, 2000
    expected = _reference_overlap(clean, adversarial, k, mode, draws, g)
    got = lrp_robustness(clean, adversarial, k, mode)
    assert torch.equal(got.isnan(), expected.isnan()) and (~got.isnan()).sum() > 20
    # Monte Carlo error of the reference: overlap / k in [0, 1] has std <= 0.5 per draw,
    # so 0.5 / sqrt(draws) = 0.011 bounds its standard error; 5 errors over 40 points
    # fails by chance less than 1 in 10^4.
    valid = ~got.isnan()
    assert (got[valid] - expected[valid]).abs().max() < 5 * 0.5 / draws**0.5


def test_a_zero_plateau_is_not_a_shared_top_k():
    # 3 positive pixels each, disjoint; the rest exactly zero. Index tie-breaking would give
    # both maps the same zero pixels and a large overlap at k = 6.
    clean = torch.zeros(1, 20)
    clean[0, 15:18] = 1.0
    adversarial = torch.zeros(1, 20)
    adversarial[0, 10:13] = 1.0
    assert lrp_robustness(clean, adversarial, 6).isnan().all()  # top-6 undefined
    assert lrp_robustness(clean, adversarial, 3).item() == 0.0
    assert topk_defined(clean, 3).all() and not topk_defined(clean, 4).any()


def test_split_halves_are_disjoint_and_a_shifted_map_scores_zero():
    g = torch.Generator().manual_seed(1)
    patch = torch.randn(1, 6, 6, generator=g)
    clean, shifted = torch.zeros(1, 28, 28), torch.zeros(1, 28, 28)
    clean[0, 2:8, 2:8] = patch[0]
    shifted[0, 8:14, 8:14] = patch[0]  # the same map moved by 6 pixels: disjoint support
    k = 2 * min((patch > 0).sum().item(), (patch < 0).sum().item())
    membership = topk_membership(clean, k, "split")
    assert membership.max() <= 1.0 and membership.sum().item() == pytest.approx(k)
    assert lrp_robustness(clean, shifted, k, "split").item() == 0.0
    assert lrp_robustness(clean, clean, k, "split").item() == 1.0
    assert lrp_robustness(clean, shifted, k + 2, "split").isnan().all()


def test_k_outside_the_image_is_rejected():
    with pytest.raises(ValueError, match="k = 785"):
        topk_membership(torch.zeros(1, 1, 28, 28), 785)


def test_softmax_robustness():
    p = torch.tensor([[0.7, 0.2, 0.1], [0.5, 0.5, 0.0]])
    q = torch.tensor([[0.1, 0.8, 0.1], [0.5, 0.5, 0.0]])
    torch.testing.assert_close(softmax_robustness(p, q), torch.tensor([0.4, 1.0]))


def test_all_zero_heatmaps_get_nan_not_a_tie_broken_rank():
    clean = torch.tensor([[0.0, 0.0, 0.0], [3.0, 2.0, 1.0], [3.0, 2.0, 1.0]])
    adversarial = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [3.0, 1.0, 2.0]])
    robustness = lrp_robustness(clean, adversarial, 1)
    assert robustness[:2].isnan().all() and robustness[2].item() == 1.0


def test_topk_modes_on_a_hand_made_heatmap():
    heat = torch.tensor([[0.5, -3.0, 2.0, -0.1, 1.0, -2.0]])
    def members(k, mode):
        return topk_membership(heat, k, mode)[0].nonzero().flatten().tolist()

    assert members(2, "signed") == [2, 4]
    # |2.0| and |-2.0| tie for the second slot: half a slot each
    assert topk_membership(heat, 2, "absolute")[0].tolist() == [0, 1, 0.5, 0, 0, 0.5]
    # split: the k // 2 most positive and the k - k // 2 most negative.
    assert members(4, "split") == [1, 2, 4, 5]
    assert members(3, "split") == [1, 2, 5]
    with pytest.raises(ValueError, match="topk_overlap.mode 'largest'"):
        topk_membership(heat, 2, "largest")


def test_robustness_depends_on_the_topk_mode():
    clean = torch.tensor([[3.0, 2.0, -5.0, -4.0, 0.0, 0.0]])
    adversarial = torch.tensor([[3.0, 0.0, -5.0, 0.0, 2.0, -4.0]])
    # signed top-2: {0, 1} vs {0, 4}; absolute: {2, 3} vs {2, 5}; split (1+1): {0, 2} vs {0, 2}.
    assert lrp_robustness(clean, adversarial, 2, "signed").item() == 0.5
    assert lrp_robustness(clean, adversarial, 2, "absolute").item() == 0.5
    assert lrp_robustness(clean, adversarial, 2, "split").item() == 1.0


def test_mean_of_sample_robustness_averages_each_samples_own_overlap():
    clean = torch.tensor([[[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]]])  # [S=2, N=1, 3]
    adversarial = clean.clone()
    scores = mean_sample_robustness(
        [(clean[:1], adversarial[:1]), (clean[1:], adversarial[1:])], [1]
    )
    assert scores.tolist() == [[1.0]]
    broken = torch.tensor([[[0.0, 0.0, 1.0]], [[0.0, 1.0, 0.0]]])
    scores = mean_sample_robustness([(clean, broken)], [1, 2])
    # k=1: sample 0 {0} vs {2} -> 0, sample 1 -> 1; k=2: one positive pixel per map,
    # top-2 undefined for every sample -> NaN.
    assert scores[0, 0].item() == 0.5 and scores[1].isnan().all()


def test_mean_of_sample_robustness_skips_all_zero_samples():
    clean = torch.tensor([[[1.0, 0.0]], [[0.0, 0.0]]])
    scores = mean_sample_robustness([(clean, clean)], [1])
    assert scores.tolist() == [[1.0]]
    assert mean_sample_robustness([(clean[1:], clean[1:])], [1]).isnan().all()


def test_perturbed_flags_inputs_the_attack_moved():
    x = torch.zeros(3, 1, 2, 2)
    x_adv = x.clone()
    x_adv[1, 0, 0, 0] = 1e-3
    x_adv[2, 0, 1, 1] = 1e-8  # below the tolerance: a masked gradient's non-move
    assert perturbed(x, x_adv).tolist() == [False, True, False]
