"""The examples the heatmap figures show: per net, a test point's image, adversarial image
and clean / adversarial heatmaps, read from the workflow's artifacts (no torch compute)."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from bayeslrp import io
from bayeslrp.figures import example_point, select
from bayeslrp.models import output_layer, split_model_name
from bayeslrp.names import topk_label


def example_runs(examples: list[dict], points, attacks, relevance) -> list[dict]:
    """The rules' example dicts with the paths of their artifacts (the rule's inputs of the
    same names, in the same order)."""
    return [
        {**run, "points": path, "attack_path": attack, "relevance_path": heat}
        for run, path, attack, heat in zip(examples, points, attacks, relevance, strict=True)
    ]


def columns(run: dict, k: int) -> dict:
    """The robustness.csv columns that identify one run (a rules' example dict) at k."""
    arch, inference = split_model_name(run["model"])
    return dict(dataset=run["dataset"], arch=arch, inference=inference, seed=run["seed"],
                attack=run["attack"], n_samples=run["n"], explainer=run["explainer"],
                layer=run["layer"], metric=topk_label(k))  # fmt: skip


def heatmaps(run: dict, point: int, load: Callable) -> tuple:
    """Clean and adversarial heatmaps (2-D arrays) of `point` in the run's artifact."""
    key = io.relevance_key(run["explainer"], run["layer"], run["n"])
    heat = io.section(load(run["relevance_path"]), key)
    return heat["clean"][point, 0].numpy(), heat["adversarial"][point, 0].numpy()


def adversarial_image(run: dict, point: int, load: Callable):
    attack = io.section(load(run["attack_path"]), io.samples_key(run["n"]))
    return attack["adversarial"][point, 0].numpy()


def is_output(run: dict) -> bool:
    return run["layer"] == output_layer(split_model_name(run["model"])[0])


def output_examples(runs: list[dict], robustness: pd.DataFrame, k: int, load: Callable,
                    label: Callable[[dict], str]) -> tuple[list[dict], list[str]]:  # fmt: skip
    """Per dataset, one test point (figures.example_point) shown for every output-layer run
    of that dataset: the examples of figures.clean_vs_adversarial, and a note per dataset
    saying which point and why. `label(run)` names a row."""
    examples, notes = [], []
    for dataset in dict.fromkeys(run["dataset"] for run in runs):
        shown = [run for run in runs if run["dataset"] == dataset and is_output(run)]
        point, why = example_point(robustness, [columns(run, k) for run in shown])
        notes.append(f"{dataset} point {point}: {why}")
        for run in shown:
            clean, adversarial = heatmaps(run, point, load)
            score = select(robustness, **columns(run, k), point=point)
            examples.append({
                "name": label(run), "run": run, "point": point,
                "image": load(run["points"])["images"][point, 0].numpy(),
                "adversarial": adversarial_image(run, point, load),
                "clean_heat": clean, "adv_heat": adversarial,
                "robustness": score["explanation_robustness"].item(),
            })  # fmt: skip
    return examples, notes
