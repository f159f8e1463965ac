"""Per-point LRP and softmax robustness of one model, and its attack statistics."""

import pandas as pd
import torch

from bayeslrp import io
from bayeslrp.baselines import baseline_heatmaps
from bayeslrp.diagnostics import gradient_masking, weight_magnitude
from bayeslrp.models import build_model, output_layer, split_model_name
from bayeslrp.posterior import check_posterior, predict_proba, take
from bayeslrp.runtime import configure_logging, execution_setting
from bayeslrp.tables import attack_summary, robustness_rows

snakemake = snakemake  # noqa: F821  (injected by Snakemake)
log = configure_logging(snakemake)
w, p = snakemake.wildcards, snakemake.params
arch, inference = split_model_name(w.model)

model = build_model(arch, p.hidden)
posterior = io.load_tensors(snakemake.input.weights)
check_posterior(posterior, model, snakemake.input.weights)
points = io.load_tensors(snakemake.input.points)
x, labels = points["images"], points["labels"]
model_keys = {"dataset": w.dataset, "arch": arch, "inference": inference, "seed": int(w.seed)}

frames, attack_rows, baseline_frames, predictions = [], [], [], {}
generator = torch.Generator().manual_seed(int(w.seed))  # the random baseline heatmaps
for run, attack_path, relevance_path in zip(
    p.runs, snakemake.input.attacks, snakemake.input.relevance, strict=True
):
    attack = io.load_tensors(attack_path)
    keys = {**model_keys, "attack": run["attack"], "epsilon": attack["epsilon"],
            "n_samples": run["n"]}  # fmt: skip
    if (run["attack"], run["n"]) not in predictions:  # shared by every layer of this attack
        weights = take(posterior, run["n"])
        p_clean = predict_proba(model, weights, x)
        p_adv = predict_proba(model, weights, attack["adversarial"])
        predictions[run["attack"], run["n"]] = p_clean, p_adv
        row = attack_summary(keys, x, attack, labels, p_clean, p_adv)
        row.update(
            gradient_masking(
                model, weights, x, labels, p.loss, execution_setting(snakemake, "attacks", "chunk")
            )
        )
        attack_rows.append(row)
        baselines = baseline_heatmaps(model, weights, x, attack["adversarial"],
                                      p_clean.argmax(1), p_adv.argmax(1), generator)  # fmt: skip
        baseline_frames += [
            robustness_rows({**keys, "layer": output_layer(arch)}, labels, p_clean, p_adv,
                            clean, adversarial, p.topk, attack["moved"],
                            p.topk_mode).assign(explainer=name)
            for name, (clean, adversarial) in baselines.items()
        ]  # fmt: skip
        log.info("%s n=%d: %s", run["attack"], run["n"], attack_rows[-1])
    p_clean, p_adv = predictions[run["attack"], run["n"]]
    heat = io.load_tensors(relevance_path)
    sample_robustness = heat.get("sample_robustness")  # metrics: mean_of_robustness
    if sample_robustness is not None and heat["topk"].tolist() != list(p.topk):
        raise ValueError(f"{relevance_path} was scored for k in {heat['topk'].tolist()}, "
                         f"not lrp.topk {list(p.topk)}; rerun its rule")  # fmt: skip
    frames.append(
        robustness_rows(
            {**keys, "layer": run["layer"]},
            labels,
            p_clean,
            p_adv,
            heat["clean"],
            heat["adversarial"],
            p.topk,
            attack["moved"],
            p.topk_mode,
            sample_robustness,
        )  # fmt: skip
    )
    undefined = frames[-1]["lrp_robustness"].isna().groupby(frames[-1]["k"]).sum()
    for k, count in undefined[undefined > 0].items():
        log.warning("%s n=%d layer %d k=%d: %d points whose top-k is undefined (fewer than k "
                    "relevant pixels) get NaN robustness", run["attack"], run["n"],
                    run["layer"], k, count)  # fmt: skip
io.save_csv(pd.concat(frames, ignore_index=True), snakemake.output.robustness)
io.save_csv(pd.DataFrame(attack_rows), snakemake.output.attacks)
io.save_csv(pd.concat(baseline_frames, ignore_index=True), snakemake.output.baselines)
magnitude = [{**model_keys, "statistic": "weight_abs_mean", "layer": layer, "value": value}
             for layer, value in weight_magnitude(posterior, arch).items()]  # fmt: skip
io.save_csv(pd.DataFrame(magnitude), snakemake.output.weights)
