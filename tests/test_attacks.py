import pytest
import torch
from torch import nn

from bayeslrp import build_model
from bayeslrp.attacks import fgsm
from bayeslrp.posterior import from_state_dict


@pytest.fixture(autouse=True)
def float64():
    """Small float64 modules, so comparisons test the algorithm, not rounding."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def linear_softmax_model(generator):
    model = nn.Sequential(nn.Flatten(), nn.Linear(6, 3))
    with torch.no_grad():
        model[1].weight.copy_(torch.randn(3, 6, generator=generator))
        model[1].bias.copy_(torch.randn(3, generator=generator))
    return model


def test_fgsm_on_linear_softmax_matches_closed_form():
    g = torch.Generator().manual_seed(0)
    model = linear_softmax_model(g)
    x = torch.rand(5, 1, 2, 3, generator=g)
    y = torch.tensor([0, 1, 2, 0, 1])
    # d CE / dx = W^T (softmax(Wx + b) - onehot(y)); the batch mean only rescales it.
    W, b = model[1].weight, model[1].bias
    p = (x.flatten(1) @ W.T + b).softmax(1)
    grad = (p - nn.functional.one_hot(y, 3)) @ W
    expected = (x + 0.1 * grad.sign().view_as(x)).clamp(0, 1)
    got = fgsm(model, from_state_dict(model.state_dict()), x, y, epsilon=0.1)
    torch.testing.assert_close(got, expected)


def test_fgsm_stays_in_the_epsilon_ball_and_unit_box():
    g = torch.Generator().manual_seed(1)
    model = build_model("fc", 8).double()
    x = torch.rand(64, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (64,), generator=g)
    adversarial = fgsm(
        model, from_state_dict(model.state_dict()), x, y, epsilon=0.25, batch_size=16
    )
    assert adversarial.shape == x.shape
    assert (adversarial - x).abs().max() <= 0.25 + 1e-12
    assert adversarial.min() >= 0 and adversarial.max() <= 1
    assert (adversarial != x).any()


def test_expected_gradient_over_identical_samples_equals_the_deterministic_attack():
    g = torch.Generator().manual_seed(2)
    model = build_model("conv", 4).double()
    x = torch.rand(8, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (8,), generator=g)
    single = from_state_dict(model.state_dict())
    repeated = {k: v.repeat(5, *[1] * (v.dim() - 1)) for k, v in single.items()}
    torch.testing.assert_close(fgsm(model, repeated, x, y, 0.2), fgsm(model, single, x, y, 0.2))
