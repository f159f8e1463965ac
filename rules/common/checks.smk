# Checks the JSON schema cannot express; run last in common.smk, once every helper exists.


def check_config(config):
    """Checks the JSON schema cannot express; each names the key and the fix."""
    points = config["data"]["n_test_points"]
    if points % 10:
        raise ValueError(
            f"data.n_test_points = {points}: must be a multiple of 10 so that the test "
            f"points are balanced over the 10 classes"
        )
    hmc_samples = config["hmc"]["num_samples"]
    if config["hmc"]["protocol"] == "full_data":
        hmc_samples *= config["hmc"]["num_chains"]
    if any(m.endswith("_hmc") for m in config["models"]) and hmc_samples < max(
        config["n_samples"]
    ):
        raise ValueError(
            f"n_samples asks for up to {max(config['n_samples'])} posterior samples but HMC "
            f"keeps {hmc_samples} (hmc.num_samples, times hmc.num_chains with protocol "
            f"full_data); raise hmc.num_samples "
            f"or lower n_samples"
        )
    if any(m.endswith("_sgmcmc") for m in config["models"]):
        check_sgmcmc(config["sgmcmc"], max(config["n_samples"]))
    ks = config["metrics"]["topk_overlap"]["k"]
    for key in ("k", "k_correlation"):
        if config["claims"][key] not in ks:
            raise ValueError(
                f"claims.{key} = {config['claims'][key]} is not one of "
                f"metrics.topk_overlap.k {ks}; add it there or change claims.{key}"
            )
    unknown = set(config["sensitivity"]["variants"]) - set(
        config["sensitivity"]["catalogue"]
    )
    if unknown:
        raise ValueError(
            f"sensitivity.variants lists {sorted(unknown)}, which sensitivity.catalogue does "
            f"not define; add them to the catalogue or remove them from the list"
        )
    for name in config["sensitivity"]["variants"]:  # each variant's config, up front
        try:
            validate(
                variant_settings(name), str(PROJECT / "schemas/config.schema.yaml")
            )
        except WorkflowError as error:
            raise ValueError(
                f"sensitivity variant {name} (this config, then sensitivity.scale, then "
                f"sensitivity.catalogue.{name}) is not a valid config: {error}"
            ) from None
    for dataset in config["datasets"]:
        if (
            not config["data"]["search_paths"][dataset]
            and "local" in config["data"]["sources"]
        ):
            raise ValueError(
                f"data.search_paths.{dataset} is empty but data.sources has local"
            )


def check_sgmcmc(s, largest):
    """SG-MCMC's draws per cycle must fit each cycle's sampling stage (sgmcmc.draw_steps)."""
    images = min(s["train_size"] or TRAIN_IMAGES, TRAIN_IMAGES)
    if images < s["batch_size"]:
        raise ValueError(
            f"sgmcmc.batch_size = {s['batch_size']} exceeds sgmcmc.train_size = {images}; "
            f"lower the batch size or use more images"
        )
    steps = s["epochs_per_cycle"] * (images // s["batch_size"])
    stage = steps - int(s["exploration"] * steps)
    per_cycle = sgmcmc_draws_per_cycle(s, largest)
    if per_cycle > stage:
        raise ValueError(
            f"sgmcmc keeps {per_cycle} draws per cycle (max n_samples {largest} over "
            f"sgmcmc.chains x sgmcmc.cycles) but a cycle samples for {stage} steps; raise "
            f"sgmcmc.epochs_per_cycle, chains or cycles, or lower sgmcmc.exploration"
        )
