# Which runs exist: models, sample counts, layers, evaluation runs, figure examples and the
# sensitivity variants, all derived from the config.


def n_samples(model):
    """Sample counts at which a model is evaluated: 1 for a single network, n_samples for
    a posterior, and for an ensemble of M members each n capped at M."""
    _, inference = split_model_name(model)
    if inference in SINGLE_NETWORK_INFERENCES:
        return [1]
    if inference == "ensemble":
        members = config["ensemble"]["members"]
        return sorted({min(n, members) for n in config["n_samples"]})
    return sorted(config["n_samples"])


def explained_layers(model, attack=None):
    """Layers whose units are explained: the output layer, or every learnable layer; for
    the adversarials of an attack on the explanation, which attacks the output layer's
    heatmap, the output layer only."""
    arch, _ = split_model_name(model)
    if config["explainers"]["layers"] == "all" and attack not in EXPLANATION_ATTACKS:
        return list(LEARNABLE_LAYERS[arch])
    return [output_layer(arch)]


def model_runs():
    """(dataset, model, seed) of every trained model."""
    return [
        dict(dataset=d, model=m, seed=s)
        for d in config["datasets"]
        for m in config["models"]
        for s in config["seeds"]
    ]


def attack_runs(model):
    """(attack, n) of every attack artifact of one model."""
    return [
        dict(attack=a, n=n)
        for a in config["attacks"]["names"]
        for n in n_samples(model)
    ]


def model_explainers(model):
    """The explainers run for one model: all of explainers.names, less, for every family
    but det, those of the det nets only (names.DET_ONLY_EXPLAINERS)."""
    _, inference = split_model_name(model)
    return [
        e
        for e in config["explainers"]["names"]
        if inference == "det" or e not in DET_ONLY_EXPLAINERS
    ]


def relevance_runs(model):
    """(explainer, attack) of every relevance artifact of one model: each holds every n
    and explained layer."""
    return [
        dict(explainer=e, attack=a)
        for e in model_explainers(model)
        for a in config["attacks"]["names"]
    ]


def evaluation_runs(model):
    """(explainer, attack, n, layer) of every set of heatmaps of one model."""
    return [
        dict(**run, n=n, layer=layer)
        for run in relevance_runs(model)
        for n in n_samples(model)
        for layer in explained_layers(model, run["attack"])
    ]


def run_outputs(pattern):
    return [pattern.format(**run) for run in model_runs()]


def evaluation_inputs(kind):
    """Artifacts of one model (attacks, evaluation, evaluation_row, relevance), one per
    attack in the order of attacks.names."""
    pattern = PATHS[kind]

    def inputs(w):
        return [pattern.format(**w, attack=a) for a in config["attacks"]["names"]]

    return inputs


# --- figures ---------------------------------------------------------------------------


def judged(inference):
    """Are the chains of an MCMC family judged in function space? They need at least 4
    draws per chain (split R-hat); HMC's full_data protocol only (per_batch chains sample
    different posteriors)."""
    if inference == "hmc":
        h = config["hmc"]
        return h["protocol"] == "full_data" and h["num_samples"] >= 4
    if inference == "sgmcmc":
        s = config["sgmcmc"]
        return s["cycles"] * sgmcmc_draws_per_cycle(s, max(config["n_samples"])) >= 4
    return False


def mcmc_runs():
    """(dataset, model, seed) of every MCMC posterior (names.MCMC_INFERENCES) whose chains
    are judged in function space."""
    return [r for r in model_runs() if judged(split_model_name(r["model"])[1])]


def mcmc_files(name):
    """A file of every judged MCMC posterior (the judge_*_convergence rules' outputs), in
    mcmc_runs order."""
    return [
        f"results/posterior/{r['dataset']}/{r['model']}/seed{r['seed']}/{name}"
        for r in mcmc_runs()
    ]


def convergence_figures():
    """The convergence figures, where the run has MCMC posteriors to judge."""
    return rules.plot_convergence.output if mcmc_runs() else []


def sweep_inputs():
    """The epsilon-sweep table of every model, in model_runs order (none when the sweep
    is switched off: attacks.sweep.epsilons empty)."""
    if not config["attacks"]["sweep"]["epsilons"]:
        return []
    return run_outputs(rules.sweep_epsilon.output.table)


def sweep_outputs():
    return rules.plot_epsilon_sweep.output if sweep_inputs() else []


def sweep_table():
    """The aggregated sweep table with its masking flag, where the run sweeps."""
    return rules.plot_epsilon_sweep.output.table if sweep_inputs() else []


def uncertainty_runs():
    """(dataset, model, seed, n) of every model with more than one draw, at its largest n:
    whose clean output-layer heatmaps have a posterior spread (Bykov et al. 2020)."""
    runs = []
    for run in model_runs():
        n = max(n_samples(run["model"]))
        if n > 1:
            runs.append(dict(run, n=n))
    return runs


def uncertainty_inputs(kind):
    """The clean output-layer heatmaps (kind clean_relevance) or test points (points) of
    every uncertainty run, in uncertainty_runs order."""
    return [PATHS[kind].format(**run) for run in uncertainty_runs()]


def uncertainty_outputs():
    """The heatmap-uncertainty table and figure, where the run has a multi-draw model."""
    return rules.plot_heatmap_uncertainty.output if uncertainty_runs() else []


def bayes_models():
    """The Bayesian nets of the run (names.BAYESIAN_INFERENCES), not the controls."""
    return [
        m for m in config["models"] if split_model_name(m)[1] in BAYESIAN_INFERENCES
    ]


def figure_models():
    """(dataset, model) of the per-model figures (Figs 4-9): each Bayesian net beside the
    deterministic net of its architecture, or each deterministic net in a det-only run.
    """
    shown = bayes_models() or config["models"]
    return [dict(dataset=d, model=m) for d in config["datasets"] for m in shown]


def example_models():
    """The nets of the heatmap figures: a deterministic and a Bayesian net of the same
    architecture (the paper's pairs, HMC first), else whatever the run has."""
    for bayes in ("fc_hmc", "conv_vi", "fc_vi", "conv_hmc"):
        det = bayes.split("_")[0] + "_det"
        if bayes in config["models"] and det in config["models"]:
            return [det, bayes]
    return config["models"][:2]


def example_dataset():
    """The dataset of Figs 2 and 3 (Fashion-MNIST, as in the paper, when it is run)."""
    return (
        "fashion_mnist"
        if "fashion_mnist" in config["datasets"]
        else config["datasets"][0]
    )


def heatmap_examples():
    """Artifacts the heatmap figures read: FGSM (else the first attack) at the largest n,
    first seed; every explained layer of the first net on the example dataset."""
    attack = (
        "fgsm"
        if "fgsm" in config["attacks"]["names"]
        else config["attacks"]["names"][0]
    )
    examples = []
    for dataset in config["datasets"]:
        for position, model in enumerate(example_models()):
            arch, _ = split_model_name(model)
            layers = [output_layer(arch)]
            if position == 0 and dataset == example_dataset():
                layers = explained_layers(model)
            for layer in layers:
                run = dict(dataset=dataset, model=model, seed=config["seeds"][0],
                           explainer=STUDY_EXPLAINER, attack=attack,
                           n=max(n_samples(model)), layer=layer)  # fmt: skip
                examples.append(run)
    return examples


def explanation_attack_examples():
    """Artifacts of the explanation-attack figure: the run's first attack on the
    explanation, at the largest n, output layer, first seed, every dataset; the nets of
    example_models(), each with LRP and, for det, beta-smoothed LRP when run. None when the
    run has no attack on the explanation."""
    attack = next(
        (a for a in config["attacks"]["names"] if a in EXPLANATION_ATTACKS), None
    )
    if attack is None:
        return []
    examples = []
    for dataset in config["datasets"]:
        for model in example_models():
            arch, _ = split_model_name(model)
            for explainer in model_explainers(model):
                if explainer == STUDY_EXPLAINER or explainer in DET_ONLY_EXPLAINERS:
                    examples.append(
                        dict(dataset=dataset, model=model, seed=config["seeds"][0],
                             explainer=explainer, attack=attack,
                             n=max(n_samples(model)), layer=output_layer(arch))
                    )  # fmt: skip
    return examples


def explanation_attack_inputs(kind):
    return [PATHS[kind].format(**run) for run in explanation_attack_examples()]


def explanation_attack_outputs():
    """The explanation-attack figure, where the run has an attack on the explanation."""
    return rules.plot_explanation_attack.output if explanation_attack_examples() else []


def heatmap_inputs(kind):
    return [PATHS[kind].format(**run) for run in heatmap_examples()]


def figure_columns():
    """figure_models() as columns, for expand(..., zip, ...)."""
    runs = figure_models()
    return {
        "dataset": [r["dataset"] for r in runs],
        "model": [r["model"] for r in runs],
    }


# --- sensitivity study -------------------------------------------------------------------


def merged(base, overrides):
    """`base` with `overrides` applied key by key at every level (as Snakemake merges
    --configfile presets)."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def variant_settings(name):
    """The complete config of one sensitivity variant (without a sensitivity study)."""
    study = config["sensitivity"]
    base = {k: v for k, v in config.items() if k != "sensitivity"}
    return canonical(merged(merged(base, study["scale"]), study["catalogue"][name]))


def trains_like_this_run(name):
    """Whether variant `name` trains every net as this run does (same sections but the
    analysis ones)."""

    def training(settings):
        return {k: v for k, v in settings.items() if k not in ANALYSIS_SECTIONS}

    return training(variant_settings(name)) == training(canonical(config))


def shared_directories(name):
    """The artifact directories variant `name` takes from this run instead of computing
    its own: the datasets always, the trained nets when it trains them as this run does.
    """
    shared = ["results/datasets/"]
    if trains_like_this_run(name):
        shared += ["results/models/", "results/posterior/"]
    return shared


def artifact_directories():
    """results/<dir>/ of every rule's outputs, logs and benchmarks, and logs/ (read from
    the rules defined so far: all but the target rules, which write nothing)."""
    found = set()
    for each in workflow.rules:
        for path in [*each.output, *each.log, *filter(None, [each.benchmark])]:
            parts = Path(path).parts
            found.add(str(Path(*parts[: 2 if parts[0] == "results" else 1])) + os.sep)
    return sorted(found)


def variant_paths(name):
    """Where variant `name`'s module writes (its replace_prefix): under
    results/sensitivity/<name>/, except the directories it shares with this run."""
    shared = shared_directories(name)
    prefix = f"results/sensitivity/{name}/"
    return {d: d if d in shared else prefix + d for d in artifact_directories()}


def shared_rules(name):
    """The rules variant `name` does not run: those writing only into shared directories
    (their outputs are this run's), and the target rules."""
    shared = shared_directories(name)
    rules_out = ["all", "tables", "figures", "build_sensitivity"]
    for each in workflow.rules:
        inside = [any(str(f).startswith(d) for d in shared) for f in each.output]
        if any(inside) and not all(inside):
            raise WorkflowError(
                f"{each.name} writes both into the directories a sensitivity variant "
                f"shares ({shared}) and outside them; split its outputs"
            )
        if inside and all(inside):
            rules_out.append(each.name)
    return rules_out


def variant_module(name):
    """The module name (and rule name prefix) of variant `name`."""
    return f"variant_{name}"


def sensitivity_variants():
    return sorted(config["sensitivity"]["variants"])


def variant_overrides():
    catalogue = config["sensitivity"]["catalogue"]
    return canonical({name: catalogue[name] for name in sensitivity_variants()})


def sensitivity_outputs(key):
    """The sensitivity study's outputs, or nothing when the config has no variants."""
    if not sensitivity_variants():
        return []
    return {
        "table": "results/tables/sensitivity.csv",
        "png": "results/figures/sensitivity.png",
    }[key]
