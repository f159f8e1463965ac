"""The transfer attack: the source net's own attack, the target never queried."""

import pytest
import torch

from bayeslrp import build_model
from bayeslrp.attacks import run_attack
from bayeslrp.posterior import Posterior

pytestmark = pytest.mark.usefixtures("float64")


def random_posterior(draws, seed):
    g = torch.Generator().manual_seed(seed)
    model = build_model("fc", 8).double()
    samples = {k: v.unsqueeze(0) + 0.3 * torch.randn(draws, *v.shape, generator=g)
               for k, v in model.state_dict().items()}  # fmt: skip
    return Posterior(model, samples)


class Untouchable:
    """A target any use of which fails: the transfer must not query it."""

    def __getattr__(self, name):
        raise AssertionError(f"transfer used the target ({name})")


def points(seed=1, n=12):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(10, (n,), generator=g)


@pytest.mark.parametrize("attack,settings", [
    ("fgsm", {}),
    ("pgd", {"steps": 3, "step_size": 0.05, "random_start": True}),
])  # fmt: skip
def test_transfer_is_the_source_attack_at_its_own_epsilon(attack, settings):
    source = random_posterior(1, 0)
    x, y = points()
    shared = {"bayes": "expected_gradient", "loss": "cross_entropy", "chunk": 4}
    ours = run_attack(Untouchable(), x, y, attack="transfer", epsilon=0.1, source="det",
                      crafted_with=attack, source_net=source, source_settings=settings,
                      generator=torch.Generator().manual_seed(3), **shared)  # fmt: skip
    direct = run_attack(source, x, y, attack=attack, epsilon=0.1, **settings,
                        generator=torch.Generator().manual_seed(3), **shared)  # fmt: skip
    assert ours.keys() == direct.keys()
    for key in direct:
        torch.testing.assert_close(ours[key], direct[key])
    assert (ours["adversarial"] - x).abs().amax() <= 0.1 + 1e-12
    assert ours["moved"].any()
