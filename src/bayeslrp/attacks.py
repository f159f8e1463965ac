"""Adversarial attacks in the L-inf ball, against a posterior of S weight samples.

Against a Bayesian net the attack follows, by default, the expected loss gradient over
the samples (`expected_gradient`), computed for all samples in one vectorised pass
(`Posterior.logits`). `mean_adversarial` attacks each sample on its own copy of
the input (again vectorised) and averages the adversarial images. A deterministic net is
S = 1, where both coincide with the textbook attack.
"""

from __future__ import annotations

import time

import torch
from torch import nn

from bayeslrp import apgd, explanation_attacks
from bayeslrp.metrics import perturbed, project
from bayeslrp.noise import noise_attack
from bayeslrp.posterior import Posterior
from bayeslrp.square import square_attack
from bayeslrp.transfer import transfer_attack

BAYES_MODES = ("expected_gradient", "mean_adversarial")
LOSSES = ("cross_entropy", "logit_margin")


def _best_other_class(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """argmax over classes other than y of `logits` [..., N, C] -> [..., N]."""
    masked = logits.detach().clone()
    masked.scatter_(-1, y.expand(masked.shape[:-1]).unsqueeze(-1), float("-inf"))
    return masked.argmax(-1)


def _mean_log_softmax_rival(posterior: Posterior, x, y, chunk) -> torch.Tensor:
    """Best other class of the posterior's mean log-softmax [N] (no gradient)."""
    total = None
    with torch.no_grad():
        for _, part in posterior.chunks(chunk):
            scores = part.logits(x, chunk).log_softmax(-1).sum(0)
            total = scores if total is None else total + scores
    return _best_other_class(total, y)


def loss_gradient(
    posterior: Posterior,
    x: torch.Tensor,
    y: torch.Tensor,
    per_sample_inputs: bool = False,
    chunk: int = 16,
    loss: str = "cross_entropy",
) -> torch.Tensor:
    """Gradient of the attack loss w.r.t. `x`, summed over samples and images.

    cross_entropy: the loss of the true label; it underflows to an exactly zero gradient
    when the softmax saturates (gradient masking). logit_margin: best other class minus
    the true class, in logits, so it cannot underflow; for shared inputs the rival class is
    that of the posterior's mean log-softmax (whose margin equals the mean logit margin,
    the log-normalisers cancel), with per-sample inputs each sample's own.

    With shared inputs this is S * N times the gradient of the expected loss (only its sign
    is used); with per-sample inputs [S, N, ...] each sample gets its own gradient. Samples
    go through in chunks, each with its own backward pass, so memory holds one chunk's graph.
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown attacks.loss {loss!r}; choose from {LOSSES}")
    rival = None
    if loss == "logit_margin" and not per_sample_inputs:
        rival = _mean_log_softmax_rival(posterior, x, y, chunk)
    grad = torch.zeros_like(x)
    for start, part in posterior.chunks(chunk):
        inputs = (x[start : start + chunk] if per_sample_inputs else x).detach()
        inputs.requires_grad_(True)
        logits = part.logits(inputs, chunk, per_sample_inputs)  # [s, N, C]
        if loss == "cross_entropy":
            labels = y.repeat(logits.shape[0])
            value = nn.functional.cross_entropy(logits.flatten(0, 1), labels, reduction="sum")
        else:
            other = (
                _best_other_class(logits, y) if rival is None else rival.expand(logits.shape[:-1])
            )
            true = y.expand(logits.shape[:-1])
            value = (
                logits.gather(-1, other.unsqueeze(-1)) - logits.gather(-1, true.unsqueeze(-1))
            ).sum()
        (part_grad,) = torch.autograd.grad(value, inputs)
        if per_sample_inputs:
            grad[start : start + chunk] = part_grad
        else:
            grad += part_grad
    return grad


def _moved(x_adv: torch.Tensor, start: torch.Tensor, per_sample: bool) -> torch.Tensor:
    """Inputs whose path left its starting point, [N] bool (per-sample inputs: any sample)."""
    if not per_sample:
        return perturbed(start, x_adv)
    return perturbed(start.flatten(0, 1), x_adv.flatten(0, 1)).view(x_adv.shape[:2]).any(0)


def _zero(grad: torch.Tensor, per_sample: bool) -> torch.Tensor:
    """Inputs whose loss gradient is exactly zero, [N] bool (per-sample inputs: every sample)."""
    zero = grad.flatten(2 if per_sample else 1).eq(0).all(-1)
    return zero.all(0) if per_sample else zero


def gradient_attack(
    posterior: Posterior,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    attack: str,
    epsilon: float,
    steps: int = 1,
    step_size: float | None = None,
    random_start: bool = False,
    bayes: str = "expected_gradient",
    generator: torch.Generator | None = None,
    chunk: int = 16,
    loss: str = "cross_entropy",
) -> dict[str, torch.Tensor]:
    """Adversarial examples for one batch of images, and how the attack got there.

    FGSM is one step of size epsilon from x; PGD takes `steps` steps of `step_size` from a
    uniform random start in the ball (drawn with `generator`), projecting after each step.
    Returns `adversarial` [N, ...], `start` (the attack's own starting point: x, or the
    random start; with `mean_adversarial` the projected mean of the per-sample starts),
    `moved` (the gradient steps moved the input away from `start`), and
    `zero_gradient_start` / `zero_gradient_last` (the loss gradient was exactly zero at the
    start / at the last iterate a step was taken from). A random start moves every input,
    so only movement from the start tells an attack from noise.
    """
    if attack == "fgsm":
        steps, step_size, random_start = 1, epsilon, False
    elif attack != "pgd":
        raise ValueError(f"unknown gradient attack {attack!r}; choose from fgsm, pgd")
    if bayes not in BAYES_MODES:
        raise ValueError(f"unknown attacks.bayes {bayes!r}; choose from {BAYES_MODES}")
    per_sample = bayes == "mean_adversarial" and len(posterior) > 1
    target = x.expand(len(posterior), *x.shape) if per_sample else x
    start = target
    if random_start:
        noise = torch.rand(target.shape, generator=generator, dtype=x.dtype).to(x.device)
        start = project(target + (2 * noise - 1) * epsilon, target, epsilon)
    x_adv, zero_start, zero_last = start, None, None
    for _ in range(steps):
        grad = loss_gradient(posterior, x_adv, y, per_sample, chunk, loss)
        zero_last = _zero(grad, per_sample)
        zero_start = zero_last if zero_start is None else zero_start
        x_adv = project(x_adv + step_size * grad.sign(), target, epsilon).detach()
    moved = _moved(x_adv, start, per_sample)
    if zero_start is None:  # steps = 0: nothing was attacked
        zero_start = zero_last = torch.ones(len(x), dtype=torch.bool, device=x.device)
    if per_sample:
        x_adv, start = project(x_adv.mean(0), x, epsilon), project(start.mean(0), x, epsilon)
    return {"adversarial": x_adv, "start": start, "moved": moved,
            "zero_gradient_start": zero_start, "zero_gradient_last": zero_last}  # fmt: skip


# name -> function(posterior, x, y, *, generator, <shared and own settings>) of one
# batch, returning `adversarial`, `start`, `moved`, `zero_gradient_start` and
# `zero_gradient_last` (see `gradient_attack`), and optionally `queries` (model queries per
# point, for the gradient-free attacks). A new attack is a module, an entry here and
# in names.ATTACKS, and a settings block in the schema (attacks.<name>).
REGISTRY = {
    "fgsm": lambda *args, **settings: gradient_attack(*args, attack="fgsm", **settings),
    "pgd": lambda *args, **settings: gradient_attack(*args, attack="pgd", **settings),
    **apgd.registry_entries(),
    "square": square_attack,
    # crafted on another net with a registered attack (attack_batch, looked up when called)
    "transfer": lambda *args, **settings: transfer_attack(*args, craft=attack_batch, **settings),
    "noise": noise_attack,
    **explanation_attacks.registry_entries(),
}


def attack_batch(posterior: Posterior, x, y, *, attack: str, **settings) -> dict[str, torch.Tensor]:
    """One batch of the registered attack `attack`."""
    if attack not in REGISTRY:
        raise ValueError(f"unknown attack {attack!r}; choose from {tuple(REGISTRY)}")
    return REGISTRY[attack](posterior, x, y, **settings)


def run_attack(
    posterior: Posterior,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    batch_size: int = 100,
    log=None,
    **settings,
) -> dict[str, torch.Tensor]:
    """`attack_batch` over all images in batches (memory: batch x samples activations)."""
    out: dict[str, list[torch.Tensor]] = {}
    start = time.perf_counter()
    for i in range(0, len(x), batch_size):
        part = attack_batch(posterior, x[i : i + batch_size], y[i : i + batch_size], **settings)
        for key, value in part.items():
            out.setdefault(key, []).append(value)
        if log is not None:
            done, seconds = min(i + batch_size, len(x)), time.perf_counter() - start
            log.info("attacked %d/%d images with %d draws: %.1f images/s, ETA %.0f s", done,
                     len(x), len(posterior), done / seconds,
                     (len(x) - done) * seconds / done)  # fmt: skip
    return {key: torch.cat(parts) for key, parts in out.items()}


def attack(posterior: Posterior, x, y, **settings) -> torch.Tensor:
    """The adversarial examples of `run_attack` alone."""
    return run_attack(posterior, x, y, **settings)["adversarial"]


def fgsm(posterior: Posterior, x, y, epsilon, batch_size=100):
    """Fast gradient sign method: x + epsilon * sign(grad), clipped to [0, 1]."""
    return attack(posterior, x, y, attack="fgsm", epsilon=epsilon, batch_size=batch_size)
