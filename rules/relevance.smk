rule explain_clean:
    input:
        points=rules.select_test_points.output.points,
        weights=PATHS["posterior"],
        code=package_modules("explainers", "io"),
    output:
        relevance=PATHS["clean_relevance"],
    log:
        "logs/explain_clean/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/explain_clean/{dataset}/{model}/seed{seed}.tsv"
    conda:
        "../envs/explain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        hidden=hidden,
        n_samples=lambda w: n_samples(w.model),
        layers=lambda w: explained_layers(w.model),
        explainers=model_explainer_settings,
        device=config["device"],
    script:
        "../workflow_scripts/explain_clean.py"


# One job per model for every attack (a file per attack): a job's start-up (~2.5 s, most of
# it `import torch`) costs more than most models' heatmaps of one attack. A change to one
# attack re-explains the model's other attacks too (seconds for most models).
rule compute_relevance:
    input:
        points=rules.select_test_points.output.points,
        weights=PATHS["posterior"],
        adversarial=evaluation_inputs("attacks"),
        clean=rules.explain_clean.output.relevance,
        code=package_modules("explainers", "io", *sample_metric_modules()),
    output:
        relevance=expand(
            PATHS["relevance"], attack=config["attacks"]["names"], allow_missing=True
        ),
    log:
        "logs/compute_relevance/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/compute_relevance/{dataset}/{model}/seed{seed}.tsv"
    conda:
        "../envs/explain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        attacks=config["attacks"]["names"],
        hidden=hidden,
        n_samples=lambda w: n_samples(w.model),
        layers=lambda w: {
            a: explained_layers(w.model, a) for a in config["attacks"]["names"]
        },
        explainers=model_explainer_settings,
        sample_metrics=sample_metric_settings,
        device=config["device"],
    script:
        "../workflow_scripts/compute_relevance.py"


rule probe_geometry:
    input:
        train=rules.download_dataset.output.train,
        points=rules.select_test_points.output.points,
        weights=PATHS["posterior"],
        code=package_modules("geometry", "lrp", "data", "models", "posterior", "io"),
    output:
        table="results/geometry/{dataset}/{model}/seed{seed}.csv",
    log:
        "logs/probe_geometry/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/probe_geometry/{dataset}/{model}/seed{seed}.tsv"
    conda:
        "../envs/explain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        hidden=hidden,
        n_samples=lambda w: n_samples(w.model),
        epsilon=config["explainers"]["lrp"]["epsilon"],
        geometry=canonical(config["geometry"]),
        device=config["device"],
    script:
        "../workflow_scripts/probe_geometry.py"


rule probe_stability:
    input:
        points=rules.select_test_points.output.points,
        weights=PATHS["posterior"],
        code=package_modules(
            "stability", "paired_claims", "explainers", "models", "posterior", "io"
        ),
    output:
        table="results/stability/{dataset}/{model}/seed{seed}.csv",
    log:
        "logs/probe_stability/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/probe_stability/{dataset}/{model}/seed{seed}.tsv"
    conda:
        "../envs/explain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        hidden=hidden,
        n_samples=lambda w: n_samples(w.model),
        explainers=model_explainer_settings,
        stability=stability_settings(),
        device=config["device"],
    script:
        "../workflow_scripts/probe_stability.py"


rule probe_faithfulness:
    input:
        points=rules.select_test_points.output.points,
        weights=PATHS["posterior"],
        clean=PATHS["clean_relevance"],
        code=package_modules(
            "faithfulness",
            "randomisation",
            "paired_claims",
            "explainers",
            "models",
            "posterior",
            "io",
        ),
    output:
        table="results/faithfulness/{dataset}/{model}/seed{seed}.csv",
    log:
        "logs/probe_faithfulness/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/probe_faithfulness/{dataset}/{model}/seed{seed}.tsv"
    conda:
        "../envs/explain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        hidden=hidden,
        n_samples=lambda w: n_samples(w.model),
        explainers=model_explainer_settings,
        faithfulness=faithfulness_settings(),
        device=config["device"],
    script:
        "../workflow_scripts/probe_faithfulness.py"
