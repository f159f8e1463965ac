"""The epsilon sweep: a working attack breaks every point at epsilon = 1, a model whose
output ignores its input is flagged, and each radius's row stands on its own."""

import pandas as pd
import pytest
import torch
from torch import nn

from bayeslrp.epsilon_sweep import masked, sweep
from bayeslrp.posterior import Posterior, from_state_dict

pytestmark = pytest.mark.usefixtures("float64")


def posterior_of(weight, bias):
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 3)).double()
    with torch.no_grad():
        model[1].weight.copy_(weight)
        model[1].bias.copy_(bias)
    return Posterior(model, from_state_dict(model.state_dict()))


def points(n=40):
    return torch.rand(n, 1, 2, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def test_a_working_attack_breaks_every_point_at_radius_one_and_not_at_zero_plus():
    # class 0 where the pixels sum above 3, class 1 below; class 2 never wins
    w = torch.stack([torch.ones(6), -torch.ones(6), torch.zeros(6)])
    posterior = posterior_of(w, torch.tensor([-3.0, 3.0, -50.0]))
    x = points()
    y = posterior.predict_proba(x).argmax(1)
    table = sweep(posterior, x, y, attack="apgd_dlr", epsilons=[0.001, 1.0],
                  settings={"steps": 20}, generator_seed=0)  # fmt: skip
    rows = table.set_index("epsilon")
    assert rows.loc[1.0, "adversarial_accuracy"] == 0 and rows.loc[1.0, "success_rate"] == 1
    assert rows.loc[0.001, "adversarial_accuracy"] > 0.9  # a tiny ball moves few sums past 3
    assert (rows["clean_accuracy"] == 1).all() and not masked(table, 0.01)
    # each radius with a generator of its own: the same row whichever radii run beside it
    alone = sweep(posterior, x, y, attack="apgd_dlr", epsilons=[1.0], settings={"steps": 20},
                  generator_seed=0)  # fmt: skip
    pd.testing.assert_frame_equal(alone, table.iloc[[1]].reset_index(drop=True))


def test_a_model_that_ignores_its_input_is_flagged_as_masked():
    posterior = posterior_of(torch.zeros(3, 6), torch.tensor([5.0, 0.0, 0.0]))
    x = points()
    y = torch.zeros(len(x), dtype=torch.long)
    table = sweep(posterior, x, y, attack="apgd_ce", epsilons=[0.5, 1.0],
                  settings={"steps": 5}, generator_seed=0)  # fmt: skip
    assert (table["adversarial_accuracy"] == 1).all()
    assert masked(table, 0.01)
    # the flag reads the largest radius only
    assert not masked(table.assign(adversarial_accuracy=[1.0, 0.0]), 0.01)
