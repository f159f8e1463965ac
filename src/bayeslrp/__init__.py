"""Resilience of Bayesian layer-wise explanations under adversarial attacks."""

__all__ = ["build_model"]


def __getattr__(name: str):
    # Lazy, so that importing a torch-free module (e.g. `bayeslrp.architectures` while
    # Snakemake builds the DAG) does not import torch.
    if name == "build_model":
        from bayeslrp.models import build_model

        return build_model
    raise AttributeError(f"module 'bayeslrp' has no attribute {name!r}")
