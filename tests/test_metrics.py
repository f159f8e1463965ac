import pytest
import torch

from bayeslrp.metrics import (
    lrp_robustness,
    mean_sample_robustness,
    perturbed,
    softmax_robustness,
    topk_indices,
)


def test_topk_overlap_on_hand_made_heatmaps():
    clean = torch.tensor([[5.0, 4.0, 3.0, 2.0, 1.0, 0.0]])
    # top-2 of clean: {0, 1}; of adversarial: {1, 5}; overlap 1 of 2.
    adversarial = torch.tensor([[0.0, 9.0, -1.0, 0.5, 0.2, 8.0]])
    assert lrp_robustness(clean, adversarial, 2).tolist() == [0.5]
    assert lrp_robustness(clean, clean, 3).tolist() == [1.0]
    # top-3 of adversarial {1, 5, 3} vs clean {0, 1, 2}: overlap 1 of 3.
    assert lrp_robustness(clean, adversarial, 3).item() == pytest.approx(1 / 3)


def test_topk_is_signed_and_breaks_ties_by_pixel_index():
    heat = torch.tensor([[-10.0, 1.0, 1.0, 0.0]])
    assert topk_indices(heat, 2).tolist() == [[1, 2]]
    assert topk_indices(torch.zeros(1, 5), 3).tolist() == [[0, 1, 2]]


def test_k_outside_the_image_is_rejected():
    with pytest.raises(ValueError, match="k = 785"):
        topk_indices(torch.zeros(1, 1, 28, 28), 785)


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
    assert topk_indices(heat, 2, "signed").tolist() == [[2, 4]]
    assert topk_indices(heat, 2, "absolute").tolist() == [[1, 2]]
    # split: the k // 2 most positive, then the k - k // 2 most negative.
    assert topk_indices(heat, 4, "split").tolist() == [[2, 4, 1, 5]]
    assert topk_indices(heat, 3, "split").tolist() == [[2, 1, 5]]
    with pytest.raises(ValueError, match="topk_mode 'largest'"):
        topk_indices(heat, 2, "largest")


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
    # k=1: sample 0 {0} vs {2} -> 0, sample 1 -> 1; k=2 (ties by index): {0,1} vs {2,0}
    # -> 1/2, sample 1 -> 1.
    assert scores[:, 0].tolist() == [0.5, 0.75]


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
