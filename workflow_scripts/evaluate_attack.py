"""What one attack did to one model at every number of samples n, independent of any
explanation metric: the predictions on clean and adversarial points, the attack's
statistics and gradient-masking diagnostics, and the trivial baselines' heatmaps. Kept
apart from the scoring (compute_robustness), so that changing a metric or k redoes none of
these backward passes; what does not depend on the attack (clean predictions, the masking
diagnostics at the clean inputs, the clean gradient x input) comes from evaluate_clean."""

import torch

from bayeslrp import io
from bayeslrp.baselines import baseline_heatmaps
from bayeslrp.models import split_model_name
from bayeslrp.posterior import Posterior
from bayeslrp.runtime import configure_logging, job, set_threads
from bayeslrp.tables import attack_summary

snakemake = job(globals())  # injected by Snakemake, or built for a target when run by hand
log = configure_logging(snakemake)
set_threads(snakemake.threads)
w, p = snakemake.wildcards, snakemake.params
arch, inference = split_model_name(w.model)

full = Posterior.load(snakemake.input.weights, arch, p.hidden)
points = io.load_tensors(snakemake.input.points)
x, labels = points["images"], points["labels"]
attacks = io.load_tensors(snakemake.input.attack)
clean_evaluation = io.load_tensors(snakemake.input.clean)
tensors, rows = {}, []
for n in p.n_samples:
    posterior, attack = full.take(n), io.section(attacks, io.samples_key(n))
    clean = io.section(clean_evaluation, io.samples_key(n))
    keys = {"dataset": w.dataset, "arch": arch, "inference": inference, "seed": int(w.seed),
            "attack": w.attack, "epsilon": attack["epsilon"], "n_samples": n}  # fmt: skip
    p_clean, p_adv = clean["p_clean"], posterior.predict_proba(attack["adversarial"])
    row = attack_summary(keys, x, attack, labels, p_clean, p_adv)
    row.update({name: value.item() for name, value in io.section(clean, "masking").items()})
    log.info("%s n=%d: %s", w.attack, n, row)
    rows.append(row)
    generator = torch.Generator().manual_seed(int(w.seed))  # the random baseline's heatmaps
    baselines = baseline_heatmaps(posterior, x, attack["adversarial"],
                                  clean["baseline_gradient_x_input_clean"], p_adv.argmax(1),
                                  generator)  # fmt: skip
    evaluation = {"p_clean": p_clean, "p_adv": p_adv}
    for name, (clean_heat, adversarial) in baselines.items():
        evaluation[f"baseline_{name}_clean"] = clean_heat
        evaluation[f"baseline_{name}_adversarial"] = adversarial
    tensors |= io.nest(io.samples_key(n), evaluation)
io.save_tensors(tensors, snakemake.output.evaluation)
io.save_json(rows, snakemake.output.row)
