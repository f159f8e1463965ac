"""Resilience of Bayesian layer-wise explanations under adversarial attacks."""

from bayeslrp.models import build_model

__all__ = ["build_model"]
