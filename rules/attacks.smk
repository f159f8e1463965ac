# The attack and what it did (attack_evaluation.py) in one job: every job pays ~3 s of
# `import torch`, and the evaluation is a few forward passes.
rule generate_attack:
    input:
        points=rules.select_test_points.output.points,
        weights=PATHS["posterior"],
        source=transfer_source,
        clean=PATHS["clean_evaluation"],
        code=package_modules(
            "attacks", "attack_evaluation", "models", "posterior", "io", "runtime"
        ),
    output:
        adversarial=PATHS["attacks"],
        evaluation=PATHS["evaluation"],
        row=PATHS["evaluation_row"],
    log:
        "logs/generate_attack/{dataset}/{model}/seed{seed}/{attack}.log",
    benchmark:
        "results/benchmarks/generate_attack/{dataset}/{model}/seed{seed}/{attack}.tsv"
    conda:
        "../envs/explain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        hidden=hidden,
        n_samples=lambda w: n_samples(w.model),
        # Only this attack's settings, so changing PGD's steps reruns PGD jobs alone.
        settings=attack_settings,
        bayes=shared_attack_setting("bayes"),
        loss=shared_attack_setting("loss"),
        device=config["device"],
    script:
        "../workflow_scripts/generate_attack.py"


rule evaluate_clean:
    input:
        points=rules.select_test_points.output.points,
        weights=PATHS["posterior"],
        code=package_modules("baselines", "diagnostics", "posterior", "io"),
    output:
        evaluation=PATHS["clean_evaluation"],
    log:
        "logs/evaluate_clean/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/evaluate_clean/{dataset}/{model}/seed{seed}.tsv"
    conda:
        "../envs/explain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        hidden=hidden,
        n_samples=lambda w: n_samples(w.model),
        loss=config["attacks"]["loss"],
    script:
        "../workflow_scripts/evaluate_clean.py"


rule sweep_epsilon:
    input:
        points=rules.select_test_points.output.points,
        weights=PATHS["posterior"],
        code=package_modules("epsilon_sweep", "models", "posterior", "io"),
    output:
        table="results/attacks/{dataset}/{model}/seed{seed}/epsilon_sweep.csv",
    log:
        "logs/sweep_epsilon/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/sweep_epsilon/{dataset}/{model}/seed{seed}.tsv"
    conda:
        "../envs/explain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        hidden=hidden,
        n=lambda w: max(n_samples(w.model)),
        sweep=canonical(sweep_settings()),
        settings=canonical(config["attacks"][config["attacks"]["sweep"]["attack"]]),
        bayes=shared_attack_setting("bayes"),
        loss=shared_attack_setting("loss"),
        device=config["device"],
    script:
        "../workflow_scripts/sweep_epsilon.py"
