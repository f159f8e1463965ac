"""Gradient-free stability (stability.py) against its definitions and a closed form, and its
claims (stability_claims.py) on hand-made tables with known answers."""

import numpy as np
import pandas as pd
import pytest
import torch

from bayeslrp import build_model, stability
from bayeslrp.paired_claims import summarise
from bayeslrp.posterior import Posterior
from bayeslrp.stability_claims import stability_claims

pytestmark = pytest.mark.usefixtures("float64")
SETTINGS = {"bootstrap": 200, "bootstrap_seed": 0, "confidence": 0.95, "c9_max": 0.0}


def slow_scores(clean, moved, x, noisy, output, moved_output):
    """The metrics point by point, perturbation by perturbation, from their definitions."""
    out = {name: [] for name in stability.METRICS}
    for i in range(len(x)):
        relative, lipschitz, ros = [], [], []
        for m in range(len(moved)):
            change = float(torch.sqrt(((moved[m, i] - clean[i]) ** 2).sum()))
            relative.append(change / float(torch.sqrt((clean[i] ** 2).sum())))
            lipschitz.append(change / float(torch.sqrt(((noisy[m, i] - x[i]) ** 2).sum())))
            if moved_output[m, i].argmax() == output[i].argmax():  # same class only
                pairs = zip(clean[i].flatten(), moved[m, i].flatten(), strict=True)
                pixels = [(float(b) - float(a)) / (float(a) if a != 0 else 1e-6)
                          for a, b in pairs]  # fmt: skip
                out_change = float(torch.sqrt(((moved_output[m, i] - output[i]) ** 2).sum()))
                ros.append(sum(v * v for v in pixels) ** 0.5 / (out_change or 1e-6))
        out["max_sensitivity"].append(max(relative))
        out["avg_sensitivity"].append(sum(relative) / len(relative))
        out["local_lipschitz"].append(max(lipschitz))
        out["relative_output_stability"].append(max(ros) if ros else float("nan"))
    return {k: torch.tensor(v) for k, v in out.items()}


def test_scores_match_the_definitions():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 1, 5, 5, generator=g)
    noisy = stability.perturb(x, 0.1, 6, g)
    clean, moved = torch.randn(4, 1, 5, 5, generator=g), torch.randn(6, 4, 1, 5, 5, generator=g)
    clean[0, 0, 0, :2] = 0.0  # pixels where the relative change divides by 1e-6
    output = torch.randn(4, 3, generator=g).log_softmax(1)
    moved_output = (output + 0.5 * torch.randn(6, 4, 3, generator=g)).log_softmax(2)
    moved_output[:, 3] = output[3].roll(1)  # point 3: every perturbation changes the class
    moved_output[2, 1] = output[1]  # an unchanged output divides by 1e-6
    fast = stability.scores(clean, moved, x, noisy, output, moved_output)
    expected = slow_scores(clean, moved, x, noisy, output, moved_output)
    assert expected["relative_output_stability"][3].isnan()
    for name, values in expected.items():
        torch.testing.assert_close(fast[name], values, equal_nan=True)


def test_perturbations_stay_in_the_ball_and_the_image_range():
    g = torch.Generator().manual_seed(1)
    x = torch.rand(50, 1, 28, 28, generator=g)
    noisy = stability.perturb(x, 0.25, 3, g)
    assert noisy.shape == (3, 50, 1, 28, 28)
    assert (noisy - x).abs().max() <= 0.25 + 1e-12
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert (noisy - x).abs().max() > 0.2  # the noise fills the ball


def linear_posterior(c, draws=1):
    """An fc net that is linear (LeakyReLU slope 1) with logit 3 = c * sum(x), every other
    logit 0: gradient x input is c * x for class 3."""
    net = build_model("fc", 4).double()
    state = {k: torch.zeros_like(v) for k, v in net.state_dict().items()}
    state["1.weight"][0] = 1.0
    state["3.weight"][0, 0] = 1.0
    state["5.weight"][3, 0] = c
    for module in net:
        if isinstance(module, torch.nn.LeakyReLU):
            module.negative_slope = 1.0
    return Posterior(net, {k: v.expand(draws, *v.shape).clone() for k, v in state.items()})


def test_a_linear_net_has_the_closed_form_lipschitz_constant_and_sensitivity():
    """h(x) = c x, so h(x') - h(x) = c (x' - x): the Lipschitz estimate is c exactly and
    the sensitivity the largest ||x' - x|| / ||x||; identical draws give it at every n."""
    c, x = 2.5, torch.rand(7, 1, 28, 28, generator=torch.Generator().manual_seed(2)) + 0.01
    scores = stability.probe("gradient_x_input", linear_posterior(c, draws=4), x, 5, [1, 4],
                             radius=0.1, samples=5, generator=torch.Generator().manual_seed(3),
                             settings={})  # fmt: skip
    noisy = stability.perturb(x, 0.1, 5, torch.Generator().manual_seed(3))
    steps = (noisy - x).flatten(2).norm(dim=2)
    # relative output stability: the map's pixel-wise relative change is (x' - x) / x, the
    # output the log-softmax of logits (0, 0, 0, c sum(x), 0, ...)
    def log_softmax(inputs):
        logits = torch.zeros(*inputs.shape[:-3], 10, dtype=inputs.dtype)
        logits[..., 3] = c * inputs.sum((-1, -2, -3))
        return logits.log_softmax(-1)

    pixels = ((noisy - x) / x).flatten(2).norm(dim=2)
    ros = (pixels / (log_softmax(noisy) - log_softmax(x)).norm(dim=2)).amax(0)
    for n in (1, 4):
        torch.testing.assert_close(scores[n]["local_lipschitz"], torch.full((7,), c))
        expected = (steps / x.flatten(1).norm(dim=1)).amax(0)
        torch.testing.assert_close(scores[n]["max_sensitivity"], expected)
        torch.testing.assert_close(scores[n]["relative_output_stability"], ros)


def test_a_constant_explanation_is_perfectly_stable():
    """A net whose logits do not depend on x (c = 0) has a zero heatmap: its relative change
    is undefined (NaN, left out of the statistics), its Lipschitz estimate 0."""
    x = torch.rand(3, 1, 28, 28)
    scores = stability.probe("gradient_x_input", linear_posterior(0.0), x, 5, [1], radius=0.1,
                             samples=2, generator=torch.Generator().manual_seed(0),
                             settings={})  # fmt: skip
    assert scores[1]["max_sensitivity"].isnan().all()
    assert scores[1]["local_lipschitz"].eq(0).all()


def frame(values):
    """Rows of the stability table: values[(inference, n)] per point (4 points, 1 group)."""
    rows = []
    for (inference, n), per_point in values.items():
        for point, value in enumerate(per_point):
            for explainer in ("lrp", "lrp_zplus"):
                rows.append({"dataset": "mnist", "arch": "fc", "inference": inference,
                             "seed": 0, "explainer": explainer, "n_samples": n,
                             "metric": "max_sensitivity", "point": point,
                             "value": value})  # fmt: skip
    return pd.DataFrame(rows)


def test_claims_on_a_hand_made_table():
    table = frame({("det", 1): [1.0, 1.2, 0.8, 1.0], ("vi", 1): [0.9, 1.1, 0.7, 0.9],
                   ("vi", 10): [0.5, 0.6, 0.4, 0.5]})  # fmt: skip
    claims = stability_claims(table, SETTINGS).set_index("claim")
    assert list(claims.index) == ["C9", "C9d", "C9d:lrp_zplus"]
    assert claims.loc["C9", "value"] == pytest.approx(-0.4)
    assert claims.loc["C9d", "value"] == pytest.approx(np.mean([-0.5, -0.6, -0.4, -0.5]))
    assert (claims["verdict"] == "supported").all()
    worse = frame({("det", 1): [0.1] * 4, ("vi", 1): [0.2, 0.3, 0.2, 0.3],
                   ("vi", 10): [0.4, 0.5, 0.4, 0.5]})  # fmt: skip
    assert (stability_claims(worse, SETTINGS)["verdict"] == "not supported").all()
    summary = summarise(table)
    row = summary[(summary["inference"] == "vi") & (summary["n_samples"] == 10)].iloc[0]
    assert row["median"] == pytest.approx(0.5) and row["points"] == 4


def test_claims_without_a_bayesian_posterior_say_so():
    claims = stability_claims(frame({("det", 1): [1.0, 1.0, 1.0, 1.0]}), SETTINGS)
    assert list(claims["claim"]) == ["C9", "C9d"]
    assert (claims["verdict"] == "inconclusive").all() and claims["note"].str.len().gt(0).all()
