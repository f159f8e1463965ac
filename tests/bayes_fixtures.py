"""Bayesian linear regression: the closed-form posterior that VI and HMC must recover."""

import torch
from torch import nn

SIGMA, PRIOR = 0.5, 1.0


def regression_problem(seed=0, n=40):
    """y = x w + b + noise, with a net nn.Linear(2, 1) whose weights are the unknowns."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g)
    x = x - x.mean(0)  # centred inputs: a near-diagonal posterior, fair to mean-field VI
    y = x @ torch.tensor([1.5, -0.7]) + 0.3 + SIGMA * torch.randn(n, generator=g)
    design = torch.cat([x, torch.ones(n, 1)], 1)  # columns: weight[0,0], weight[0,1], bias
    precision = design.T @ design / SIGMA**2 + torch.eye(3) / PRIOR**2
    covariance = torch.linalg.inv(precision)
    mean = covariance @ design.T @ y / SIGMA**2
    return nn.Linear(2, 1), x, y, mean, covariance, precision


def flat(params):
    """weight [.., 1, 2] and bias [.., 1] -> [.., 3] in the design's column order."""
    return torch.cat([params["weight"].flatten(-2), params["bias"]], -1)
