"""Faithfulness by pixel flipping (faithfulness.py), the randomisation test
(randomisation.py) and their claims (faithfulness_claims.py), on cases with known answers."""

import pandas as pd
import pytest
import torch

from bayeslrp import build_model, explainers, faithfulness, randomisation
from bayeslrp.faithfulness_claims import faithfulness_claims, most_robust
from bayeslrp.posterior import Posterior

pytestmark = pytest.mark.usefixtures("float64")
SETTINGS = {"bootstrap": 200, "bootstrap_seed": 0, "confidence": 0.95, "c10_min": 0.0}


def test_flipping_removes_exactly_the_first_pixels_of_the_order():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(3, 1, 4, 4, generator=g) + 0.1
    order = faithfulness.random_orders(3, 16, g)
    counts = faithfulness.flip_counts(10, 4)
    assert counts == [0, 2, 5, 8, 10]
    images = faithfulness.flipped(x, order, counts)
    for c, count in enumerate(counts):
        for i in range(3):
            expected = x[i].flatten().clone()
            expected[order[i, :count]] = 0  # slow: pixel by pixel from the definition
            torch.testing.assert_close(images[c, i].flatten(), expected)


def linear_posterior(weights):
    """A linear fc net (LeakyReLU slope 1): logit 3 = <weights, x>, every other logit 0."""
    net = build_model("fc", 4).double()
    state = {k: torch.zeros_like(v) for k, v in net.state_dict().items()}
    state["1.weight"][0] = weights
    state["3.weight"][0, 0] = 1.0
    state["5.weight"][3, 0] = 1.0
    for module in net:
        if isinstance(module, torch.nn.LeakyReLU):
            module.negative_slope = 1.0
    return Posterior(net, {k: v.unsqueeze(0) for k, v in state.items()})


def test_the_exact_explanation_of_a_linear_net_beats_every_order_and_its_reverse_loses():
    """Logit 3 = sum w_i x_i with w_i > 0: gradient x input is w * x, and removing its
    largest terms first lowers the logit (and p(3)) at least as fast as any other order."""
    g = torch.Generator().manual_seed(1)
    weights = torch.rand(784, generator=g) * 0.02
    posterior = linear_posterior(weights)
    x = torch.rand(20, 1, 28, 28, generator=g)
    heat = explainers.sample_heatmaps("gradient_x_input", posterior, x, layer=5)[0]
    chance = faithfulness.random_orders(20, 784, g)
    counts = faithfulness.flip_counts(200, 10)
    target = torch.full((20,), 3)
    order = heat.flatten(1).argsort(1, descending=True)
    morf = faithfulness.curve(posterior, x, order, target, counts)
    assert (morf <= faithfulness.curve(posterior, x, chance, target, counts) + 1e-12).all()
    scores = faithfulness.probe(posterior, x, {1: heat}, pixels=200, steps=10, random_order=chance)
    assert (scores[1]["faithfulness"] > 0).all()
    reverse = faithfulness.probe(posterior, x, {1: -heat}, pixels=200, steps=10,
                                 random_order=chance)  # fmt: skip
    assert (reverse[1]["faithfulness"] < 0).all()
    # an explanation that orders the pixels as chance does is exactly as good as chance
    ranks = torch.empty_like(chance)
    ranks.scatter_(1, chance, torch.arange(784).expand(20, -1))
    as_chance = faithfulness.probe(posterior, x, {1: -ranks.double().view_as(x)}, pixels=200,
                                   steps=10, random_order=chance)  # fmt: skip
    assert as_chance[1]["faithfulness"].abs().max() < 1e-12


def random_posterior(arch, draws, seed=0):
    torch.manual_seed(seed)
    nets = [build_model(arch, 6).double() for _ in range(draws)]
    return Posterior(nets[0], {k: torch.stack([n.state_dict()[k] for n in nets])
                               for k in nets[0].state_dict()})  # fmt: skip


def test_randomising_replaces_exactly_the_layers_from_the_given_one_up():
    posterior = random_posterior("fc", 3)
    weights = randomisation.random_weights("fc", 6, seed=5)
    moved = randomisation.randomised(posterior, weights, from_layer=3)
    for key, value in moved.samples.items():
        if int(key.split(".")[0]) >= 3:
            assert all(torch.equal(value[s], weights[key].double()) for s in range(3)), key
        else:
            assert torch.equal(value, posterior.samples[key]), key
    # the same seed, the same random net; the global generator is left alone
    state = torch.random.get_rng_state()
    again = randomisation.random_weights("fc", 6, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(again[k], weights[k]) for k in weights)


def test_similarity_ranks_only_the_pixels_of_the_image():
    """Outside the image (x = 0) every x-times-gradient map is 0 whatever the model: those
    tied zeros must not count. Inside, a reversal of the ranking is -1, itself +1."""
    x = torch.zeros(2, 1, 4, 4)
    x[:, 0, 1:3, 1:3] = 0.5  # four non-black pixels
    original = torch.zeros_like(x)
    original[:, 0, 1:3, 1:3] = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    reversed_ = torch.zeros_like(x)
    reversed_[:, 0, 1:3, 1:3] = torch.tensor([[4.0, 3.0], [2.0, 1.0]])
    torch.testing.assert_close(randomisation.similarity(original, reversed_, x),
                               torch.full((2,), -1.0, dtype=torch.float64))  # fmt: skip
    torch.testing.assert_close(randomisation.similarity(original, original, x),
                               torch.ones(2, dtype=torch.float64))  # fmt: skip


def test_the_cascade_is_perfectly_similar_when_the_random_net_is_the_model(monkeypatch):
    """Plumbing: with 'random' weights equal to the (single) net's own, every step of the
    cascade reproduces the original heatmap (similarity 1); with real random weights the
    heatmap changes."""
    posterior = random_posterior("conv", 1)
    x = torch.rand(6, 1, 28, 28)
    targets = {1: posterior.predict_proba(x).argmax(1)}
    heat = explainers.bayesian_heatmaps("lrp", posterior, x, 7, [1], targets)
    monkeypatch.setattr(randomisation, "random_weights", lambda *a: posterior.sample(0))
    same = randomisation.cascade("lrp", posterior, x, "conv", 6, heat, targets, seed=0,
                                 settings={})  # fmt: skip
    assert set(same) == {7, 3, 0}
    for per_n in same.values():
        torch.testing.assert_close(per_n[1], torch.ones(6, dtype=torch.float64))
    monkeypatch.undo()
    # (seed 0 would re-create this very net: random_posterior initialises it from seed 0)
    other = randomisation.cascade("lrp", posterior, x, "conv", 6, heat, targets, seed=1,
                                  settings={})  # fmt: skip
    assert (other[0][1] < 0.99).all()


def frame(values):
    """Rows of the faithfulness table: values[(inference, n)] per point, two explainers."""
    rows = [{"dataset": "mnist", "arch": "fc", "inference": inference, "seed": 0,
             "explainer": explainer, "n_samples": n, "metric": "faithfulness",
             "point": point, "value": value}
            for (inference, n), per_point in values.items()
            for point, value in enumerate(per_point)
            for explainer in ("lrp", "lrp_zplus")]  # fmt: skip
    return pd.DataFrame(rows)


def test_claims_on_a_hand_made_table():
    table = frame({("det", 1): [0.2, 0.3, 0.1, 0.2], ("hmc", 1): [0.1] * 4,
                   ("hmc", 10): [0.3, 0.4, 0.2, 0.3]})  # fmt: skip
    claims = faithfulness_claims(table, SETTINGS).set_index("claim")
    assert list(claims.index) == ["C10s", "C10", "C10:lrp_zplus"]
    assert claims.loc["C10s", "value"] == pytest.approx(0.2)
    assert claims.loc["C10", "value"] == pytest.approx(0.1)
    assert (claims["verdict"] == "supported").all()
    less = frame({("det", 1): [0.2, 0.3, 0.1, 0.2], ("hmc", 10): [0.0, 0.1, -0.1, 0.0]})
    claims = faithfulness_claims(less, SETTINGS).set_index("claim")
    assert claims.loc["C10", "value"] == pytest.approx(-0.2)
    assert claims.loc["C10", "verdict"] == "not supported"


def robustness_rows(inference, explainer, n, medians, *, attack="fgsm", layer=5,
                    metric="top10_overlap"):  # fmt: skip
    """Robustness-table rows of one candidate: three points whose median is `medians`."""
    return [{"dataset": "mnist", "arch": "fc", "seed": 0, "inference": inference,
             "explainer": explainer, "n_samples": n, "attack": attack, "layer": layer,
             "metric": metric, "point": point, "explanation_robustness": value}
            for point, value in enumerate([medians - 0.1, medians, medians + 0.1])]  # fmt: skip


def test_the_most_robust_explanation_is_chosen_at_the_largest_n_under_label_attacks():
    table = pd.DataFrame([
        *robustness_rows("det", "lrp", 1, 0.3),
        *robustness_rows("hmc", "lrp", 10, 0.6),
        *robustness_rows("hmc", "lrp", 2, 0.95),  # not the largest n
        *robustness_rows("hmc", "lrp_zplus", 10, 0.8),
        # none of these count: a control, an attack on the explanation, an inner layer,
        # another k
        *robustness_rows("det", "lrp", 1, 0.99, attack="noise"),
        *robustness_rows("det", "gradient_x_input", 1, 0.99, attack="topk"),
        *robustness_rows("det", "gradient_x_input", 1, 0.99, layer=3),
        *robustness_rows("det", "gradient_x_input", 1, 0.99, metric="top30_overlap"),
    ])  # fmt: skip
    best = most_robust(table, k=10)
    assert best[["inference", "explainer"]].values.tolist() == [["hmc", "lrp_zplus"]]
    assert best["median"].item() == pytest.approx(0.8)


def test_c10r_pairs_the_most_robust_explanation_with_det_lrp_point_by_point():
    robustness = pd.DataFrame([*robustness_rows("det", "lrp", 1, 0.3),
                               *robustness_rows("hmc", "lrp_zplus", 10, 0.8),
                               *robustness_rows("hmc", "lrp", 10, 0.5)])  # fmt: skip

    def faithfulness(zplus):
        rows = {("det", "lrp", 1): [0.5, 0.6, 0.7, 0.6], ("hmc", "lrp", 10): [0.9] * 4,
                ("hmc", "lrp_zplus", 1): [0.9] * 4,  # one draw: not the probe's largest n
                ("hmc", "lrp_zplus", 10): zplus}  # fmt: skip
        return pd.DataFrame([{"dataset": "mnist", "arch": "fc", "inference": inference,
                              "seed": 0, "explainer": explainer, "n_samples": n,
                              "metric": "faithfulness", "point": point, "value": value}
                             for (inference, explainer, n), values in rows.items()
                             for point, value in enumerate(values)])  # fmt: skip

    settings = {**SETTINGS, "k": 10, "c10r_margin": 0.05}
    # z+ on HMC, the most robust, loses 0.3 of faithfulness at every point: less faithful
    claims = faithfulness_claims(faithfulness([0.2, 0.3, 0.4, 0.3]), settings,
                                 robustness=robustness).set_index("claim")  # fmt: skip
    assert claims.loc["C10r", "value"] == pytest.approx(-0.3)
    assert claims.loc["C10r", "verdict"] == "not supported"
    assert "mnist fc: hmc lrp_zplus" in claims.loc["C10r", "statistic"]
    # within the margin (0.02 less faithful at every point): at least as faithful
    claims = faithfulness_claims(faithfulness([0.48, 0.58, 0.68, 0.58]), settings,
                                 robustness=robustness).set_index("claim")  # fmt: skip
    assert claims.loc["C10r", "value"] == pytest.approx(-0.02)
    assert claims.loc["C10r", "verdict"] == "supported"
    # without the robustness table there is no C10r
    assert "C10r" not in set(faithfulness_claims(faithfulness([0.2] * 4), settings)["claim"])
