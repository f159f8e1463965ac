"""The heatmap-spread measures (Bykov et al. 2020) against hand-computed values."""

import math

import pandas as pd
import torch

from bayeslrp.heatmap_uncertainty import point_table, relative_spread, summary, uncertain_topk


def test_relative_spread_is_total_std_over_total_absolute_mean():
    mean = torch.tensor([[[1.0, -3.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]])
    std = torch.tensor([[[0.5, 0.5], [1.0, 0.0]], [[1.0, 0.0], [0.0, 0.0]]])
    spread = relative_spread(mean, std)
    assert spread[0].item() == 2.0 / 4.0
    assert math.isnan(spread[1].item())  # an all-zero explanation has no relative spread


def test_uncertain_topk_counts_top_pixels_whose_sign_one_std_does_not_settle():
    mean = torch.tensor([[5.0, 4.0, 3.0, 0.5, -1.0]])
    std = torch.tensor([[1.0, 4.5, 0.0, 9.0, 9.0]])
    # signed top-3 = pixels 0, 1, 2; only pixel 1 has std > |mean|
    assert uncertain_topk(mean, std, 3, "signed").item() == 1 / 3
    # absolute top-4 adds pixel 4 (|-1|), unsettled too
    assert uncertain_topk(mean, std, 4, "absolute").item() == 2 / 4
    # a tie at the k-th value: pixels 1 and 2 share the second slot, half each
    tied = torch.tensor([[5.0, 3.0, 3.0]])
    assert uncertain_topk(tied, torch.tensor([[0.0, 9.0, 0.0]]), 2, "signed").item() == 0.25
    # fewer than k positive pixels: the top-k set, and the share, are undefined
    assert math.isnan(uncertain_topk(-mean.abs(), std, 3, "signed").item())


def test_summary_keeps_groups_apart_and_counts_defined_points():
    a = point_table(torch.tensor([[1.0, 2.0]] * 4), torch.tensor([[0.0, 3.0]] * 4), 1, "signed")
    b = point_table(torch.tensor([[1.0, 1.0], [0.0, 0.0]]), torch.zeros(2, 2), 1, "signed")
    points = pd.concat([a.assign(model="fc_hmc"), b.assign(model="fc_vi")])
    table = summary(points, ["model"]).set_index(["model", "measure"])
    assert table.loc[("fc_hmc", "relative_spread"), "median"] == 1.0
    assert table.loc[("fc_hmc", "uncertain_topk"), "mean"] == 1.0  # pixel 1: 3 > 2
    assert table.loc[("fc_vi", "relative_spread"), "points"] == 1  # the zero map is undefined
    assert table.loc[("fc_vi", "relative_spread"), "q75"] == 0.0
