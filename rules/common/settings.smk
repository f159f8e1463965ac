# Settings of one job, as the rules' params read them: only the keys a result depends on,
# in a canonical key order (see `canonical`), per dataset or architecture where given so.


def canonical(settings):
    """`settings` with keys sorted at every level.

    Snakemake compares params as written, so the same values in another key order (a
    reordered YAML file, a merged preset) would otherwise rerun the rule.
    """
    if isinstance(settings, dict):
        return {key: canonical(settings[key]) for key in sorted(settings)}
    return settings


def attack_settings(wildcards):
    """The settings block of attack `wildcards.attack`; for transfer, with the crafting
    attack's own block (its epsilon dropped: transfer's replaces it) as source_settings.
    """
    settings = dict(config["attacks"][wildcards.attack])
    if wildcards.attack == "transfer":
        crafting = config["attacks"][settings["crafted_with"]]
        settings["source_settings"] = {
            k: v for k, v in crafting.items() if k != "epsilon"
        }
    if wildcards.attack in EXPLANATION_ATTACKS:  # they attack the study's explanation
        settings["lrp_epsilon"] = config["explainers"]["lrp"]["epsilon"]
        if wildcards.attack == "topk":  # the metric's own top-k set
            settings["mode"] = config["metrics"]["topk_overlap"]["mode"]
    return canonical(settings)


def crafting_attack(attack):
    """The attack whose code runs for `attack`: transfer's crafting attack, else itself."""
    if attack == "transfer":
        return config["attacks"]["transfer"]["crafted_with"]
    return attack


def transfer_source(wildcards):
    """The weights a transfer job crafts on: the source family's net of the same dataset,
    architecture and seed; nothing for the other attacks."""
    if wildcards.attack != "transfer":
        return []
    arch, _ = split_model_name(wildcards.model)
    source = config["attacks"]["transfer"]["source"]
    return PATHS["posterior"].format(**{**wildcards, "model": f"{arch}_{source}"})


def shared_attack_setting(key):
    """attacks.<key> (bayes, loss) for the attacks that read it (for transfer: if its
    crafting attack reads it), "not applicable" for the others, so that changing it reruns
    only those (names.SHARED_SETTING_ATTACKS). Without an attack wildcard: of the epsilon
    sweep's attack.
    """

    def setting(wildcards):
        attack = getattr(wildcards, "attack", config["attacks"]["sweep"]["attack"])
        if crafting_attack(attack) in SHARED_SETTING_ATTACKS:
            return config["attacks"][key]
        return "not applicable"

    return setting


def sweep_settings():
    """The epsilon sweep's settings a sweep table depends on (not the masking threshold,
    which only the aggregate reads)."""
    sweep = config["attacks"]["sweep"]
    return {key: sweep[key] for key in ("attack", "epsilons", "points")}


def model_explainer_settings(wildcards):
    """settings_of every explainer run for `wildcards.model`, in explainers.names order."""
    return {name: settings_of(name) for name in model_explainers(wildcards.model)}


def stability_settings():
    """The stability probe's settings (every one changes its table)."""
    return canonical(config["stability"])


def faithfulness_settings():
    """The faithfulness probe's settings (every one changes its table)."""
    return canonical(config["faithfulness"])


def settings_of(name):
    """The settings a heatmap of explainer `name` depends on: the shared target and inner
    start and its own block, without its speed settings and chunk (the scripts read those
    with execution_setting), so that they rerun nothing."""
    speed = EXPLAINER_SPEED_SETTINGS.get(name, ())
    own = {k: v for k, v in config["explainers"][name].items() if k not in speed}
    shared = {k: config["explainers"][k] for k in ("target", "inner_start")}
    return canonical({**shared, name: own})


def metric_settings():
    """The explanation metrics of the run, {name: settings}, in metrics.names order."""
    return {
        name: canonical(config["metrics"][name]) for name in config["metrics"]["names"]
    }


def sample_metric_settings(wildcards):
    """The metrics, for the relevance rule only where it scores samples one by one (a
    model with more than one draw; the rule does so at every n > 1).

    With the default mean_heatmap a metric change reruns the tables, not the heatmaps.
    """
    if (
        config["metrics"]["bayes_robustness"] != "mean_of_robustness"
        or max(n_samples(wildcards.model)) == 1
    ):
        return None
    return metric_settings()


def sample_metric_modules():
    """The metrics are relevance code only where samples are scored one by one."""
    if config["metrics"]["bayes_robustness"] == "mean_of_robustness":
        return ["paired_heatmaps"]  # and explanation_metrics, which it imports
    return []


def for_job(value, wildcards):
    """A setting given once, per dataset, or per dataset and architecture, for one job."""
    if isinstance(value, dict):
        value = value[wildcards.dataset]
    if isinstance(value, dict):
        arch = (
            wildcards.arch
            if "arch" in wildcards.keys()
            else wildcards.model.split("_")[0]
        )
        value = value[arch]
    return value


def per_job(section, key):
    """`config[section][key]` (e.g. det/vi epochs, vi lr) for a job."""
    return lambda wildcards: for_job(config[section][key], wildcards)


def family_settings(wildcards):
    """The settings a family of names.FITTED depends on: its config blocks, resolved for
    the job's dataset and architecture, and the largest n where it draws that many."""
    family = FITTED[wildcards.inference]
    settings = {}
    for entry in family.blocks:  # "block", or "block.key" for one setting of a block
        block, _, only = entry.partition(".")
        chosen = settings.setdefault(block, {})
        for key, value in config[block].items():
            if not only or key == only:
                chosen[key] = for_job(value, wildcards)
    if family.draws:  # draws a sample per n, up to the largest
        settings["n_samples"] = max(config["n_samples"])
    return canonical(settings)


def family_modules(wildcards):
    """The code of one family's fit: its module, the dispatcher (inference) and what they
    import; editing one family's module refits that family only."""
    own = FITTED[wildcards.inference].module
    return package_modules(own, "inference", "models", "posterior", "io")


def arch_posterior(wildcards, inference):
    """The `inference` model of the job's dataset, architecture and seed."""
    return PATHS["posterior"].format(model=f"{wildcards.arch}_{inference}", **wildcards)


def det_posterior(wildcards):
    """The deterministic net of the job's dataset, architecture and seed."""
    return arch_posterior(wildcards, "det")


def det_base(wildcards):
    """The deterministic net a family starts from (names.FITTED's from_det), else nothing."""
    if not FITTED[wildcards.inference].from_det:
        return []
    return det_posterior(wildcards)


def fit_runtime(wildcards):
    """Minutes a fit may take on a cluster: an ensemble trains `members` nets."""
    if wildcards.inference == "ensemble":
        return 60 * config["ensemble"]["members"]
    return 60


def hmc_start_weights(wildcards):
    """The trained nets HMC chains start from: the deterministic net (hmc.init:
    det_weights) or the deep ensemble (ensemble: chain c starts at member c mod M) of the
    same dataset, architecture and seed; else nothing."""
    init = config["hmc"]["init"]
    if init == "det_weights":
        return det_posterior(wildcards)
    if init == "ensemble":
        return arch_posterior(wildcards, "ensemble")
    return []


def hmc_chain_count():
    """Chain jobs of one HMC posterior: hmc.num_chains, or one per batch of the
    per_batch protocol (every dataset has TRAIN_IMAGES training images)."""
    h = config["hmc"]
    if h["protocol"] == "per_batch":
        return -(-min(h["train_size"], TRAIN_IMAGES) // h["batch_size"])
    return h["num_chains"]


def chain_settings():
    """The settings one chain depends on: not log_every (speed), nor num_chains (adding a
    chain reruns no other chain)."""
    h = {k: v for k, v in config["hmc"].items() if k not in ("log_every", "num_chains")}
    return canonical(h)


def hmc_chain_files(name):
    def files(wildcards):
        return [
            f"results/posterior/{wildcards.dataset}/{wildcards.arch}_hmc/"
            f"seed{wildcards.seed}/chain{c}/{name}"
            for c in range(hmc_chain_count())
        ]

    return files


hmc_chain_draws = hmc_chain_files("draws.pt")
hmc_chain_summaries = hmc_chain_files("chain.json")


def hidden(wildcards):
    """H of the job's network."""
    return for_job(config["hidden"], wildcards)
