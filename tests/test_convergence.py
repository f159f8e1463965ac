"""Function-space convergence statistics: the chain layout, and R-hat against its definition."""

import pytest
import torch

from bayeslrp.convergence import (
    chain_major,
    function_space_statistics,
    heatmap_agreement,
    heatmap_space_statistics,
    per_point_statistics,
    trace_points,
    true_class_probabilities,
)
from bayeslrp.models import build_model
from bayeslrp.posterior import Posterior, interleave


def _split_rhat_from_the_definition(chain_values):
    """BDA3 split R-hat of one scalar: chains halved, then sqrt(var+ / W)."""
    halves = []
    for chain in chain_values:
        half = len(chain) // 2
        halves += [chain[:half], chain[-half:]]
    halves = torch.stack(halves).double()
    m, n = halves.shape
    means = halves.mean(1)
    between = n * means.var()
    within = halves.var(1).mean()
    var_plus = (n - 1) / n * within + between / n
    return (var_plus / within).sqrt().item()


def test_chain_major_undoes_the_stored_order():
    stacked = {"w": torch.arange(3 * 8).view(3, 8, 1).float()}  # [chains, draws, ...]
    stored = interleave(stacked)["w"]
    assert torch.equal(chain_major(stored, 3), stacked["w"])
    with pytest.raises(ValueError, match="do not split into 5 equal chains"):
        chain_major(stored, 5)


def test_split_rhat_matches_its_definition_and_flags_disagreeing_chains():
    g = torch.Generator().manual_seed(0)
    mixed = torch.randn(3, 200, 50, generator=g, dtype=torch.float64)
    stats = function_space_statistics(mixed)
    # iid chains: R-hat near 1; its sampling spread at 3 x 200 draws is ~0.005 per point
    assert 0.99 < stats["fs_rhat_median"] < 1.02 and stats["fs_points"] == 50
    assert stats["fs_rhat_above_threshold_fraction"] == 0
    stuck = mixed + torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64).view(3, 1, 1)
    stats = function_space_statistics(stuck)
    # shifts of 1 and 2 sd: sqrt(1 + between / within) ~ 1.34
    assert stats["fs_rhat_median"] > 1.2 and stats["fs_rhat_above_threshold_fraction"] == 1
    from pyro.ops.stats import split_gelman_rubin

    rhat = split_gelman_rubin(stuck, chain_dim=0, sample_dim=1)
    for point in (0, 17):
        assert rhat[point].item() == pytest.approx(
            _split_rhat_from_the_definition(stuck[:, :, point]), rel=1e-9
        )


def test_a_saturated_point_is_left_out_not_counted_as_converged():
    values = torch.rand(2, 20, 4, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    values[:, :, 0] = 1.0  # every draw certain: no variance, R-hat undefined
    stats = function_space_statistics(values)
    assert stats["fs_points"] == 3
    values[:] = 1.0
    assert torch.tensor(function_space_statistics(values)["fs_rhat_median"]).isnan()


def test_true_class_probabilities_are_each_draws_softmax_of_the_label():
    model = build_model("fc", 8)
    g = torch.Generator().manual_seed(2)
    samples = {k: v.unsqueeze(0) + 0.1 * torch.randn(5, *v.shape, generator=g)
               for k, v in model.state_dict().items()}  # fmt: skip
    posterior = Posterior(model, samples)
    x = torch.rand(7, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (7,), generator=g)
    got = true_class_probabilities(posterior, x, y, chunk=2)
    expected = posterior.logits(x).double().softmax(-1)[:, torch.arange(7), y]
    assert got.shape == (5, 7) and torch.allclose(got, expected)


def test_per_point_statistics_mark_saturated_points_and_trace_points_span_the_rhats():
    values = torch.randn(3, 40, 6, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    values[:, :, 2] = 0.5  # no variance
    values[:, :, 4] += torch.tensor([0.0, 3.0, 6.0], dtype=torch.float64).view(3, 1)  # stuck
    rhat, ess = per_point_statistics(values)
    assert rhat.isnan().tolist() == [False, False, True, False, False, False]
    assert ess[2].isnan() and (ess[[0, 1, 3, 5]] > 0).all()
    shown = trace_points(rhat)
    assert shown[-1] == 4 and rhat[shown[0]] == rhat[torch.isfinite(rhat)].min()
    assert 2 not in shown and len(shown) == 4
    assert trace_points(torch.full((3,), float("nan"))) == []


def test_heatmap_agreement_is_each_draws_topk_overlap_with_the_mean_heatmap():
    g = torch.Generator().manual_seed(4)
    base = torch.rand(5, 50, generator=g)  # 5 points, 50 pixels
    same = base.expand(6, 5, 50)
    assert torch.equal(heatmap_agreement(same, 5), torch.ones(6, 5, dtype=torch.float64))
    # draws of two kinds: 4 equal to `base`, 2 with the pixel order reversed
    mixed = torch.cat([base.expand(4, 5, 50), base.flip(-1).expand(2, 5, 50)])
    agreement = heatmap_agreement(mixed, 5)
    mean = mixed.double().mean(0)
    for s in (0, 5):  # against the slow definition: |top-k(draw) & top-k(mean)| / k
        for n in range(5):
            top_draw = set(mixed[s, n].topk(5).indices.tolist())
            top_mean = set(mean[n].topk(5).indices.tolist())
            assert agreement[s, n].item() == pytest.approx(len(top_draw & top_mean) / 5)
    # 5 `base` draws and 3 reversed ones; chain 0 holds 4 base draws, chain 1 the reversed
    # ones: each draw's agreement with the mean of all differs by chain, so the chains
    # disagree (R-hat far above 1)
    pooled = torch.cat([base.expand(5, 5, 50), base.flip(-1).expand(3, 5, 50)])
    values = heatmap_agreement(pooled, 5)[[0, 1, 2, 3, 5, 6, 7, 5]].view(2, 4, 5)
    differs = (values[0, 0] != values[1, 0]).sum().item()
    values = values + 0.01 * torch.randn(2, 4, 5, generator=g, dtype=torch.float64)
    stats = heatmap_space_statistics(values)
    assert stats["hs_points"] == 5 and differs >= 3
    assert stats["hs_rhat_median"] > 1.5
