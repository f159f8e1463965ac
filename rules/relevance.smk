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


rule compute_relevance:
    input:
        points=rules.select_test_points.output.points,
        weights=PATHS["posterior"],
        adversarial=rules.generate_attack.output.adversarial,
        clean=rules.explain_clean.output.relevance,
        code=package_modules("explainers", "io", *sample_metric_modules()),
    output:
        relevance=PATHS["relevance"],
    log:
        "logs/compute_relevance/{dataset}/{model}/seed{seed}/{attack}.log",
    benchmark:
        "results/benchmarks/compute_relevance/{dataset}/{model}/seed{seed}/{attack}.tsv"
    conda:
        "../envs/explain.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        hidden=hidden,
        n_samples=lambda w: n_samples(w.model),
        layers=lambda w: explained_layers(w.model, w.attack),
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
