import pytest
import torch
from captum.robust import FGSM, PGD
from torch import nn

from bayeslrp import build_model
from bayeslrp.attacks import attack, fgsm
from bayeslrp.posterior import Posterior, from_state_dict

pytestmark = pytest.mark.usefixtures("float64")


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
    got = fgsm(Posterior(model, from_state_dict(model.state_dict())), x, y, epsilon=0.1)
    torch.testing.assert_close(got, expected)


def test_fgsm_stays_in_the_epsilon_ball_and_unit_box():
    g = torch.Generator().manual_seed(1)
    model = build_model("fc", 8).double()
    x = torch.rand(64, 1, 28, 28, generator=g)
    y = torch.randint(0, 10, (64,), generator=g)
    adversarial = fgsm(
        Posterior(model, from_state_dict(model.state_dict())), x, y, epsilon=0.25, batch_size=16
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
    torch.testing.assert_close(
        fgsm(Posterior(model, repeated), x, y, 0.2), fgsm(Posterior(model, single), x, y, 0.2)
    )


def _det(arch="fc", hidden=8, seed=0):
    torch.manual_seed(seed)
    model = build_model(arch, hidden).double()
    return model, from_state_dict(model.state_dict())


def _batch(n=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def _captum(cls, model):
    """captum's attack on our logits; its default loss expects probabilities."""
    loss = nn.CrossEntropyLoss(reduction="none")
    adversary = cls(model, loss_func=loss, lower_bound=0.0, upper_bound=1.0)
    # captum leaves pixels with |grad| <= 1e-6 unchanged; we follow any nonzero gradient.
    (adversary.fgsm if cls is PGD else adversary).zero_thresh = 0.0
    return adversary


@pytest.mark.parametrize("arch", ["fc", "conv"])
def test_fgsm_agrees_with_captum(arch):
    model, posterior = _det(arch)
    x, y = _batch()
    expected = _captum(FGSM, model).perturb(x, 0.1, y)
    torch.testing.assert_close(fgsm(Posterior(model, posterior), x, y, 0.1), expected)


@pytest.mark.parametrize("arch", ["fc", "conv"])
def test_pgd_without_random_start_agrees_with_captum(arch):
    model, posterior = _det(arch)
    x, y = _batch()
    expected = _captum(PGD, model).perturb(
        x, radius=0.1, step_size=0.02, step_num=7, target=y, random_start=False
    )
    ours = attack(
        Posterior(model, posterior), x, y, attack="pgd", epsilon=0.1, steps=7, step_size=0.02
    )
    torch.testing.assert_close(ours, expected)


def test_pgd_stays_in_the_ball_and_its_random_start_is_seeded():
    model, posterior = _det()
    x, y = _batch(32)

    def run(seed):
        return attack(Posterior(model, posterior), x, y, attack="pgd", epsilon=0.05, steps=3,
                      step_size=0.03, random_start=True,
                      generator=torch.Generator().manual_seed(seed))  # fmt: skip

    first = run(0)
    assert (first - x).abs().max() <= 0.05 + 1e-12
    assert first.min() >= 0 and first.max() <= 1
    assert torch.equal(first, run(0)) and not torch.equal(first, run(1))


@pytest.mark.parametrize("bayes", ["expected_gradient", "mean_adversarial"])
@pytest.mark.parametrize("name", ["fgsm", "pgd"])
def test_bayesian_attacks_over_identical_samples_equal_the_det_attack(bayes, name):
    model, single = _det("conv", 4)
    x, y = _batch(6)
    repeated = {k: v.repeat(5, *[1] * (v.dim() - 1)) for k, v in single.items()}
    settings = dict(attack=name, epsilon=0.1, steps=3, step_size=0.02)
    expected = attack(Posterior(model, single), x, y, **settings)
    repeated = Posterior(model, repeated)
    torch.testing.assert_close(attack(repeated, x, y, bayes=bayes, **settings), expected)
    # one sample at a time (chunk 1, a plain loop) gives the same attack as vmap chunks
    torch.testing.assert_close(
        attack(repeated, x, y, bayes=bayes, chunk=1, **settings), expected
    )


def test_mean_adversarial_averages_per_sample_attacks():
    """With two different samples, mean_adversarial = projected mean of the two det attacks."""
    torch.manual_seed(0)
    a, b = build_model("fc", 6).double(), build_model("fc", 6).double()
    pa, pb = from_state_dict(a.state_dict()), from_state_dict(b.state_dict())
    both = {k: torch.cat([pa[k], pb[k]]) for k in pa}
    x, y = _batch(5)
    mean = attack(Posterior(a, both), x, y, attack="fgsm", epsilon=0.1, bayes="mean_adversarial")
    each = fgsm(Posterior(a, pa), x, y, 0.1), fgsm(Posterior(b, pb), x, y, 0.1)
    expected = ((each[0] + each[1]) / 2).clamp(0, 1)
    torch.testing.assert_close(mean, expected)


def test_pgd_succeeds_at_least_as_often_as_fgsm_on_a_trained_net():
    from bayeslrp.data import from_local, parse_idx, to_float_images
    from bayeslrp.inference import train_deterministic

    try:
        raw, _ = from_local("fashion_mnist", ["/usr/share/datasets/fashion-mnist"])
    except Exception:
        pytest.skip("Debian's dataset-fashion-mnist is not installed (make setup installs it)")
    images = to_float_images(torch.from_numpy(parse_idx(raw["train_images"]).copy())).double()
    labels = torch.from_numpy(parse_idx(raw["train_labels"]).copy()).long()
    torch.manual_seed(0)
    model = build_model("fc", 32)
    train_deterministic(model, images[:3000], labels[:3000], epochs=2, lr=1e-3, batch_size=64,
                        generator=torch.Generator().manual_seed(0),
                        device=torch.device("cpu"))  # fmt: skip
    posterior = from_state_dict(model.state_dict())
    x, y = images[3000:3200], labels[3000:3200]
    clean = model(x).argmax(1)
    success = {}
    for name in ("fgsm", "pgd"):
        adv = attack(Posterior(model, posterior), x, y, attack=name, epsilon=0.05, steps=20,
                     step_size=0.01, random_start=True,
                     generator=torch.Generator().manual_seed(0))  # fmt: skip
        success[name] = (model(adv).argmax(1) != clean).double().mean().item()
    assert success["pgd"] >= success["fgsm"] > 0.1, success
