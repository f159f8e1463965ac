import pytest
import torch

from bayeslrp.metrics import lrp_robustness, softmax_robustness, topk_indices


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
