"""The geometry probe (geometry.py) and its claims (geometry_claims.py), on cases with a
known answer."""

import numpy as np
import pandas as pd
import pytest
import torch

from bayeslrp import geometry, geometry_claims
from bayeslrp.models import build_model
from bayeslrp.posterior import Posterior, from_state_dict

SETTINGS = {"bootstrap": 200, "bootstrap_seed": 0, "confidence": 0.95, "c8_max": 0.0}


def plane(points=400, size=20, dim=3, noise=1e-4, seed=0):
    """Training rows on a random `dim`-dimensional affine plane in R^size (plus tiny
    noise), the plane's orthonormal basis, and its offset."""
    g = torch.Generator().manual_seed(seed)
    basis, _ = torch.linalg.qr(torch.randn(size, dim, generator=g, dtype=torch.float64))
    offset = torch.randn(size, generator=g, dtype=torch.float64)
    coords = torch.randn(points, dim, generator=g, dtype=torch.float64)
    noise = noise * torch.randn(points, size, generator=g, dtype=torch.float64)
    return coords @ basis.T + offset + noise, basis, offset


def test_local_pca_recovers_a_linear_manifold_and_its_dimension():
    train, basis, offset = plane()
    x = torch.randn(5, 3, dtype=torch.float64) @ basis.T + offset
    bases, dims = geometry.tangent_bases(x, train, neighbours=30, variance=0.999)
    assert dims.tolist() == [3] * 5
    # the estimated space is the plane: projecting the true basis onto it changes nothing
    for b in bases:
        assert torch.allclose(b @ (b.T @ basis), basis, atol=1e-3)
        assert torch.allclose(b.T @ b, torch.eye(3, dtype=torch.float64), atol=1e-10)


def test_the_dimension_is_the_fewest_directions_reaching_the_variance_share():
    # spreads 3, 2, 1 along three axes: shares 9/14, 13/14, 1
    g = torch.Generator().manual_seed(1)
    coords = torch.randn(2000, 3, generator=g, dtype=torch.float64)
    coords = (coords - coords.mean(0)) / coords.std(0) * torch.tensor([3.0, 2.0, 1.0])
    train = torch.cat([coords, torch.zeros(2000, 7, dtype=torch.float64)], 1)
    x = torch.zeros(1, 10, dtype=torch.float64)
    for variance, expected in [(0.5, 1), (0.9, 2), (0.95, 3)]:
        _, dims = geometry.tangent_bases(x, train, neighbours=2000, variance=variance)
        assert dims.item() == expected, variance


def test_normal_fraction_against_an_explicit_projector():
    g = torch.Generator().manual_seed(2)
    bases = torch.linalg.qr(torch.randn(4, 12, 5, generator=g, dtype=torch.float64))[0]
    bases[1, :, 3:] = 0  # a point of dimension 3 (zero columns beyond it)
    vectors = torch.randn(6, 4, 12, generator=g, dtype=torch.float64)
    fraction = geometry.normal_fraction(vectors, bases)
    for s in range(6):
        for n in range(4):
            u = bases[n][:, bases[n].abs().sum(0) > 0].numpy()
            v = vectors[s, n].numpy()
            normal = v - u @ np.linalg.lstsq(u, v, rcond=None)[0]
            assert fraction[s, n].item() == pytest.approx(normal @ normal / (v @ v), rel=1e-10)
    # closed form: a tangent and b normal -> b^2 / (a^2 + b^2); a zero vector: NaN
    tangent, normal = bases[0][:, 0], torch.zeros(12, dtype=torch.float64)
    normal[0] = 1.0
    normal = normal - bases[0] @ (bases[0].T @ normal)
    normal = normal / normal.norm()
    v = (3 * tangent + 4 * normal).expand(4, 12)
    assert geometry.normal_fraction(v, bases)[0].item() == pytest.approx(16 / 25)
    assert geometry.normal_fraction(torch.zeros(4, 12, dtype=torch.float64), bases).isnan().all()


def test_logit_gradients_match_a_loop_over_draws():
    torch.manual_seed(0)
    nets = [build_model("fc", 8) for _ in range(3)]
    stack = {k: torch.cat([from_state_dict(n.state_dict())[k] for n in nets]) for k in
             nets[0].state_dict()}  # fmt: skip
    posterior = Posterior(build_model("fc", 8), stack)
    x, target = torch.rand(4, 1, 28, 28), torch.tensor([0, 3, 9, 3])
    gradients = geometry.logit_gradients(posterior, x, target)
    assert gradients.shape == (3, 4, 1, 28, 28)
    for s, net in enumerate(nets):
        for n in range(4):
            point = x[n : n + 1].clone().requires_grad_(True)
            (expected,) = torch.autograd.grad(net(point)[0, target[n]], point)
            assert torch.allclose(gradients[s, n], expected[0], atol=1e-6)


def test_averaging_draws_shrinks_independent_normal_parts_as_one_over_n():
    # every draw = a shared tangent vector (norm a) + independent isotropic noise in the
    # normal space (expected squared norm b^2): the mean of n draws has normal fraction
    # about (b^2 / n) / (a^2 + b^2 / n), the study's mechanism in its simplest form
    g = torch.Generator().manual_seed(3)
    size, dim, points, draws = 50, 5, 400, 64
    bases = torch.zeros(points, size, dim, dtype=torch.float64)
    bases[:, :dim, :] = torch.eye(dim, dtype=torch.float64)
    shared = torch.zeros(points, size, dtype=torch.float64)
    shared[:, 0] = 1.0  # a = 1
    noise = torch.randn(draws, points, size, generator=g, dtype=torch.float64)
    noise[..., :dim] = 0
    noise = noise / (size - dim) ** 0.5  # b^2 = 1
    rows = geometry.probe({"gradient": shared + noise}, bases, torch.full((points,), dim),
                          [1, 4, 64])  # fmt: skip
    means = rows.groupby("n_samples")["normal_fraction"].mean()
    for n in (1, 4, 64):
        expected = (1 / n) / (1 + 1 / n)
        # per point the fraction's spread is below 0.2; 400 points: MC error < 0.01
        assert means[n] == pytest.approx(expected, abs=0.05), n
    assert (rows["random_normal_fraction"] == 1 - dim / size).all()
    assert (rows["tangent_dim"] == dim).all()


def frame(differences, det_offset=0.0, points=30, seed=0):
    """Geometry rows of one HMC posterior (n = 1, 10) and the det net: normal fractions
    0.8 at n = 1 and 0.8 + differences at n = 10 (per point), the det net 0.8 + offset."""
    rng = np.random.default_rng(seed)
    base = 0.8 + 0.01 * rng.standard_normal(points)
    rows = []
    for inference, n, values in [("hmc", 1, base), ("hmc", 10, base + differences),
                                 ("det", 1, base + det_offset)]:  # fmt: skip
        for quantity in ("gradient", "lrp"):
            rows.append(pd.DataFrame({"dataset": "mnist", "arch": "fc", "inference": inference,
                                      "seed": 0, "quantity": quantity, "n_samples": n,
                                      "point": range(points), "normal_fraction": values}))
    return pd.concat(rows, ignore_index=True)


def test_c8_is_the_mean_paired_shrinkage_with_a_verdict():
    rng = np.random.default_rng(4)
    shrink = -0.1 + 0.02 * rng.standard_normal(30)
    claims = geometry_claims.geometry_claims(frame(shrink, det_offset=0.05), SETTINGS)
    c8 = claims.set_index("claim")
    assert c8.loc["C8", "value"] == pytest.approx(shrink.mean())
    assert c8.loc["C8", "ci_low"] < shrink.mean() < c8.loc["C8", "ci_high"] < 0
    assert c8.loc["C8", "verdict"] == "supported" and c8.loc["C8h", "verdict"] == "supported"
    # Bayes at n = 10 minus det: shrink - 0.05 per point
    assert c8.loc["C8d", "value"] == pytest.approx((shrink - 0.05).mean())
    grow = geometry_claims.geometry_claims(frame(-shrink), SETTINGS).set_index("claim")
    assert grow.loc["C8", "verdict"] == "not supported"
    none = geometry_claims.geometry_claims(frame(0.02 * rng.standard_normal(30)), SETTINGS)
    assert none.set_index("claim").loc["C8", "verdict"] == "inconclusive"


def test_c8_averages_groups_not_rows():
    # two posteriors: one on 30 points shrinking by 0.2, one on 10 of them growing by 0.1;
    # the mean of group means is -0.05, pooled rows would give (30 * -0.2 + 10 * 0.1) / 40
    a = frame(np.full(30, -0.2))
    b = frame(np.full(10, 0.1), points=10)
    b["inference"] = b["inference"].replace("hmc", "vi")
    claims = geometry_claims.geometry_claims(pd.concat([a, b]), SETTINGS).set_index("claim")
    assert claims.loc["C8", "value"] == pytest.approx((-0.2 + 0.1) / 2)


def test_c8_without_a_bayesian_posterior_is_inconclusive_with_a_note():
    rows = frame(np.zeros(30))
    claims = geometry_claims.geometry_claims(rows[rows["inference"] == "det"], SETTINGS)
    assert (claims["verdict"] == "inconclusive").all() and claims["note"].str.len().gt(0).all()
