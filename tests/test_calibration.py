"""Calibration scores against closed forms and a slow reference from the definition."""

import math

import torch

from bayeslrp.calibration import brier, ece, nll


def slow_ece(proba, labels, bins=15):
    total = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [i for i in range(len(labels)) if low < proba[i].max().item() <= high]
        if members:
            accuracy = sum(int(proba[i].argmax() == labels[i]) for i in members) / len(members)
            confidence = sum(proba[i].max().item() for i in members) / len(members)
            total += len(members) / len(labels) * abs(accuracy - confidence)
    return total


def test_perfect_and_uniform_predictions_have_their_closed_forms():
    labels = torch.tensor([0, 3, 9, 3])
    perfect = torch.nn.functional.one_hot(labels, 10).float()
    assert nll(perfect, labels) == 0.0 and brier(perfect, labels) == 0.0
    assert ece(perfect, labels) == 0.0
    uniform = torch.full((4, 10), 0.1)
    assert math.isclose(nll(uniform, labels), math.log(10), rel_tol=1e-6)
    assert math.isclose(brier(uniform, labels), 0.9 * 0.9 + 9 * 0.01, rel_tol=1e-6)
    # argmax of a uniform row is class 0: one of four correct at confidence 0.1
    assert math.isclose(ece(uniform, labels), abs(0.25 - 0.1), rel_tol=1e-6)


def test_a_confidently_wrong_prediction_costs_a_finite_nll():
    proba = torch.tensor([[1.0, 0.0]])
    assert math.isfinite(nll(proba, torch.tensor([1]))) and nll(proba, torch.tensor([1])) > 700


def test_ece_matches_the_slow_definition():
    g = torch.Generator().manual_seed(0)
    proba = torch.softmax(3 * torch.randn(500, 10, generator=g), 1)
    labels = torch.randint(0, 10, (500,), generator=g)
    assert math.isclose(ece(proba, labels), slow_ece(proba, labels), rel_tol=1e-9)
    assert ece(proba, labels) > 0.05  # random labels: overconfident, far from calibrated
