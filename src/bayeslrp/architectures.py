"""Names and layer ids of the study's architectures, without importing torch.

The workflow reads these while it builds the DAG; keeping torch out of this module keeps
`snakemake -n` about 1.7 s faster (torch's import alone).
"""

from __future__ import annotations

ARCHITECTURES = ("fc", "conv")

# Learnable layers per architecture (the paper's layer ids); the last one is the output layer.
LEARNABLE_LAYERS = {"fc": (1, 3, 5), "conv": (0, 3, 7)}


def output_layer(arch: str) -> int:
    """Layer id of the network's output (logit) layer."""
    return LEARNABLE_LAYERS[arch][-1]


def split_model_name(model: str) -> tuple[str, str]:
    """`fc_det` -> (`fc`, `det`)."""
    arch, _, inference = model.partition("_")
    if arch not in ARCHITECTURES or not inference:
        raise ValueError(f"model name {model!r} is not of the form <fc|conv>_<inference>")
    return arch, inference
