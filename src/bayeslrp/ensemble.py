"""Deep ensembles (Lakshminarayanan et al., NeurIPS 2017): M deterministic nets trained
from different random initialisations and batch orders, stacked as M weight samples.

The control of "is it Bayes, or mere averaging?": an average of independently trained
nets, with no posterior behind it. Members are trained exactly as the deterministic net
(the `det` block's settings), one after the other from the job's seed, so member 0 is the
deterministic net of the same seed and the ensemble changes when `det` does.
"""

from __future__ import annotations

import logging
import time

import torch

from bayeslrp.data import training_subset
from bayeslrp.inference import train_network
from bayeslrp.posterior import Posterior

log = logging.getLogger(__name__)


def fit(build, train, base, settings, *, generator, device):
    """`ensemble.members` nets trained with the `det` settings (inference.fit's signature).

    Each member's initialisation comes from torch's global generator and its batch order
    from `generator`, both advancing from member to member.
    """
    det, members = settings["det"], settings["ensemble"]["members"]
    images, labels = training_subset(train, det["train_size"], device)
    states, finals = [], []
    start = time.perf_counter()
    for member in range(1, members + 1):
        model, losses = train_network(build, images, labels, det, generator=generator,
                                      device=device)  # fmt: skip
        states.append({name: value.detach().cpu() for name, value in model.state_dict().items()})
        finals.append(losses[-1])
        elapsed = time.perf_counter() - start
        log.info("member %d/%d trained: final loss %.4f (%.2f members/min)", member, members,
                 losses[-1], 60 * member / elapsed)  # fmt: skip
    samples = {name: torch.stack([state[name] for state in states]) for name in states[0]}
    summary = {
        "statistics": {
            "members": members,
            "loss_final": float(torch.tensor(finals).mean()),
            "loss_final_spread": float(torch.tensor(finals).std()) if members > 1 else 0.0,
            "train_size": len(labels),
            "seconds": time.perf_counter() - start,
        },
        "loss_final_per_member": finals,
    }
    return Posterior(model.cpu(), samples), summary
