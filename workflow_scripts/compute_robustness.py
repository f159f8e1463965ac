"""Per-point explanation and softmax robustness of one model, scored from the cached
heatmaps and predictions (no network runs here: a metric or k change is cheap)."""

import pandas as pd

from bayeslrp import io
from bayeslrp.diagnostics import weight_magnitude
from bayeslrp.explanation_metrics import SAMPLE_PREFIX, score
from bayeslrp.models import output_layer, split_model_name
from bayeslrp.runtime import configure_logging, job
from bayeslrp.tables import robustness_rows

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
w, p, inp = snakemake.wildcards, snakemake.params, snakemake.input
arch, inference = split_model_name(w.model)
labels = io.load_tensors(inp.points)["labels"]
model_keys = {"dataset": w.dataset, "arch": arch, "inference": inference, "seed": int(w.seed)}

# Each attack's artifacts hold every n of this model (keys samples{n}/...); its rows file
# one row per n, in attack_runs' order.
attack_files, attack_rows = {}, []
for name, a, e, r in zip(p.attacks, inp.attacks, inp.evaluations, inp.rows, strict=True):
    attack_files[name] = io.load_tensors(a), io.load_tensors(e)
    attack_rows += io.load_json(r)
evaluations, baseline_frames = {}, []
for run in p.attack_runs:
    attacks, evaluations_of_attack = attack_files[run["attack"]]
    attack = io.section(attacks, io.samples_key(run["n"]))
    evaluation = io.section(evaluations_of_attack, io.samples_key(run["n"]))
    keys = {**model_keys, "attack": run["attack"], "epsilon": attack["epsilon"],
            "n_samples": run["n"]}  # fmt: skip
    evaluations[run["attack"], run["n"]] = keys, attack["moved"], evaluation
    for name in p.baselines:
        scores = score(p.metrics, evaluation[f"baseline_{name}_clean"],
                       evaluation[f"baseline_{name}_adversarial"])  # fmt: skip
        baseline_frames.append(
            robustness_rows({**keys, "explainer": name, "layer": output_layer(arch)}, labels,
                            evaluation["p_clean"], evaluation["p_adv"], scores,
                            attack["moved"])
        )  # fmt: skip
# one relevance file per attack, every explainer, layer and n of this model in it
relevance = {name: io.load_tensors(path)
             for name, path in zip(p.attacks, inp.relevance, strict=True)}  # fmt: skip
frames = []
for run in p.runs:
    keys, moved, evaluation = evaluations[run["attack"], run["n"]]
    key = io.relevance_key(run["explainer"], run["layer"], run["n"])
    heat = io.section(relevance[run["attack"]], key)
    scores = score(p.metrics, heat["clean"], heat["adversarial"])
    # metrics.bayes_robustness: mean_of_robustness (scored sample by sample with the heatmaps)
    sample_means = {key.removeprefix(SAMPLE_PREFIX): values for key, values in heat.items()
                    if key.startswith(SAMPLE_PREFIX)}  # fmt: skip
    if sample_means and sample_means.keys() != scores.keys():
        raise ValueError(f"{run['attack']}.pt {key} holds sample means of "
                         f"{sorted(sample_means)}, not of the metrics' labels {sorted(scores)}; "
                         f"rerun its rule")  # fmt: skip
    scores = sample_means or scores
    frames.append(
        robustness_rows({**keys, "explainer": run["explainer"], "layer": run["layer"]}, labels,
                        evaluation["p_clean"], evaluation["p_adv"], scores, moved)
    )  # fmt: skip
    for label, values in scores.items():
        if values.isnan().any():
            log.warning("%s %s n=%d layer %d %s: %d points whose score is undefined (e.g. "
                        "fewer than k relevant pixels, a constant heatmap) get NaN",
                        run["explainer"], run["attack"], run["n"], run["layer"], label,
                        int(values.isnan().sum()))  # fmt: skip
io.save_csv(pd.concat(frames, ignore_index=True), snakemake.output.robustness)
# The rows come back from JSON with sorted keys: the identifying columns first again.
attacks = pd.DataFrame(attack_rows)
leading = [*model_keys, "attack", "epsilon", "n_samples"]
attacks = attacks[leading + [c for c in attacks.columns if c not in leading]]
io.save_csv(attacks, snakemake.output.attacks)
io.save_csv(pd.concat(baseline_frames, ignore_index=True), snakemake.output.baselines)
posterior = io.load_tensors(inp.weights)
magnitude = [{**model_keys, "statistic": "weight_abs_mean", "layer": layer, "value": value}
             for layer, value in weight_magnitude(posterior, arch).items()]  # fmt: skip
io.save_csv(pd.DataFrame(magnitude), snakemake.output.weights)
