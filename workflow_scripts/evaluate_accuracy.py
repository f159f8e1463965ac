"""Test accuracy and calibration of one model on the test split (or a seeded random
subset of it, data.accuracy_images), for each number of samples."""

import pandas as pd
import torch

from bayeslrp import io
from bayeslrp.calibration import brier, ece, nll
from bayeslrp.data import to_float_images
from bayeslrp.models import split_model_name
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import configure_logging, job, resolve_device, set_threads

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
device = resolve_device(snakemake.params.device)
w = snakemake.wildcards
arch, inference = split_model_name(w.model)

posterior = Posterior.load(snakemake.input.weights, arch, snakemake.params.hidden, device)
test = io.load_tensors(snakemake.input.test)
images, labels = test["images"], test["labels"]
if snakemake.params.images is not None and snakemake.params.images < len(images):
    # random, not the first N: MNIST's test split is ordered by writer population
    generator = torch.Generator().manual_seed(snakemake.params.seed)
    chosen = torch.randperm(len(images), generator=generator)[: snakemake.params.images]
    images, labels = images[chosen], labels[chosen]
    log.info("accuracy on %d of the %d test images", len(images), len(test["images"]))
images, labels = to_float_images(images).to(device), labels.to(device)

rows = []
probabilities = posterior.predict_proba_prefixes(images, snakemake.params.n_samples)
for n, proba in probabilities.items():
    predicted = proba.argmax(1)
    accuracy = (predicted == labels).to(torch.float64).mean().item()
    proba, targets = proba.cpu(), labels.cpu()
    scores = {"nll": nll(proba, targets), "ece": ece(proba, targets),
              "brier": brier(proba, targets)}  # fmt: skip
    log.info("n_samples=%d: test accuracy %.4f, %s", n, accuracy, scores)
    rows.append({"dataset": w.dataset, "arch": arch, "inference": inference,
                 "seed": int(w.seed), "n_samples": n, "test_accuracy": accuracy,
                 **scores})  # fmt: skip
io.save_csv(pd.DataFrame(rows), snakemake.output.accuracy)
