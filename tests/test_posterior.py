import math

import pytest
import torch

from bayeslrp import build_model, io
from bayeslrp.posterior import Posterior, check_posterior, drop_invalid_samples


def random_posterior(arch="fc", hidden=6, samples=7):
    torch.manual_seed(0)
    nets = [build_model(arch, hidden) for _ in range(samples)]
    return nets[0], {
        k: torch.stack([n.state_dict()[k] for n in nets]) for k in nets[0].state_dict()
    }


def test_predictive_is_the_mean_softmax_over_samples():
    model, posterior = random_posterior()
    x = torch.rand(5, 1, 28, 28)
    expected = torch.stack(
        [torch.func.functional_call(model, {k: v[s] for k, v in posterior.items()}, (x,))
         .softmax(-1) for s in range(7)]
    ).mean(0)  # fmt: skip
    stack = Posterior(model, posterior)
    torch.testing.assert_close(stack.predict_proba(x, batch_size=2), expected)
    per_sample = stack.logits(x, chunk=1).softmax(-1).mean(0)
    torch.testing.assert_close(per_sample, expected)
    torch.testing.assert_close(stack.logits(x, chunk=3).softmax(-1).mean(0), expected)


def test_prefix_predictions_equal_direct_computation():
    model, posterior = random_posterior("conv", 4)
    x = torch.rand(9, 1, 28, 28)
    stack = Posterior(model, posterior)
    prefixes = stack.predict_proba_prefixes(x, [1, 3, 7], batch_size=4)
    for n in (1, 3, 7):
        torch.testing.assert_close(prefixes[n], stack.take(n).predict_proba(x))
    logs = stack.log_predict_proba_prefixes(x, [1, 3, 7], batch_size=4)
    for n in (1, 3, 7):
        torch.testing.assert_close(logs[n], prefixes[n].log())


def test_log_prefix_predictions_stay_finite_where_a_probability_underflows():
    # a draw so confident that the other classes' softmax is exactly 0 in float32
    model, posterior = random_posterior("fc", samples=2)
    stack = Posterior(model, {k: v * 40 for k, v in posterior.items()})
    x = torch.rand(5, 1, 28, 28)
    assert (stack.predict_proba_prefixes(x, [2])[2] == 0).any()
    logs = stack.log_predict_proba_prefixes(x, [1, 2])
    assert all(torch.isfinite(v).all() for v in logs.values())
    # log of the mean of the two draws' softmax, from their log-softmax in float64
    per_draw = stack.logits(x).double().log_softmax(-1)
    torch.testing.assert_close(logs[2].double(), per_draw.logsumexp(0) - math.log(2),
                               rtol=1e-5, atol=1e-4)  # fmt: skip


def test_chunks_cover_every_sample_once_in_order():
    model, posterior = random_posterior(samples=7)
    stack = Posterior(model, posterior)
    parts = list(stack.chunks(3))
    assert [start for start, _ in parts] == [0, 3, 6]
    assert [len(part) for _, part in parts] == [3, 3, 1]
    for name, value in posterior.items():
        torch.testing.assert_close(torch.cat([p.samples[name] for _, p in parts]), value)
    assert torch.equal(stack.take(2).samples["1.weight"], posterior["1.weight"][:2])
    with pytest.raises(ValueError, match="asked for 8 posterior samples, the posterior holds 7"):
        stack.take(8)


def test_a_saved_posterior_loads_checked(tmp_path):
    model, posterior = random_posterior(samples=3)
    Posterior(model, posterior).save(tmp_path / "weights.pt")
    loaded = Posterior.load(str(tmp_path / "weights.pt"), "fc", 6)
    assert len(loaded) == 3 and torch.equal(loaded.sample(2)["5.bias"], posterior["5.bias"][2])
    io.save_tensors({**posterior, "5.bias": posterior["5.bias"][:, :4]}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match=r"5.bias has per-sample shape \(4,\)"):
        Posterior.load(str(tmp_path / "bad.pt"), "fc", 6)


def test_bad_posteriors_are_named():
    model, posterior = random_posterior()
    wrong = {**posterior, "1.weight": posterior["1.weight"][:, :3]}
    with pytest.raises(ValueError, match=r"1.weight has per-sample shape \(3, 784\)"):
        check_posterior(wrong, model, "weights.pt")
    nan = {k: v.clone() for k, v in posterior.items()}
    nan["3.bias"][2, 0] = float("nan")
    with pytest.raises(ValueError, match="3.bias contains NaN"):
        check_posterior(nan, model, "weights.pt")
    kept, dropped = drop_invalid_samples(nan, "weights.pt")
    assert dropped == 1 and kept["3.bias"].shape[0] == 6


def test_spread_order_prefixes_cover_every_chain_and_each_chains_length():
    from bayeslrp.posterior import spread_order, spread_positions

    for size in (1, 7, 100, 300):
        assert sorted(spread_positions(size)) == list(range(size))
    order = spread_order(3, 100)
    assert sorted(order.tolist()) == list(range(300))
    for n in (10, 50, 100, 300):
        chain, position = order[:n] // 100, order[:n] % 100
        counts = torch.bincount(chain, minlength=3)
        assert counts.max() - counts.min() <= 1  # round-robin over chains
        for c in range(3):  # within a chain: no gap longer than twice the even spacing
            kept = position[chain == c].sort().values
            gaps = torch.diff(torch.cat([kept, kept[:1] + 100]))
            assert gaps.max() <= 2 * 100 / len(kept), (n, c, kept)


def test_chunk_auto_loops_conv_nets_on_a_cpu_and_batches_otherwise():
    from bayeslrp.runtime import CPU_CONV_CHUNK, VECTORISED_CHUNK, chunk_size

    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    for section in ("attacks", "explainers"):
        assert chunk_size("auto", section, "conv", cpu) == CPU_CONV_CHUNK[section]
        assert chunk_size("auto", section, "conv", gpu) == VECTORISED_CHUNK[section]
        assert chunk_size("auto", section, "fc", cpu) == VECTORISED_CHUNK[section]
        assert chunk_size(3, section, "conv", cpu) == 3  # a number is taken as given
    assert CPU_CONV_CHUNK["attacks"] < VECTORISED_CHUNK["attacks"]
