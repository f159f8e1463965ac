rule run_variant:
    input:
        code=package_modules(
            "data",
            "models",
            "inference",
            "bayes",
            "vi",
            "hmc",
            "posterior",
            "attacks",
            "lrp",
            "metrics",
            "diagnostics",
            "baselines",
            "tables",
            "claims",
            "io",
            "runtime",
        ),
    output:
        claims="results/sensitivity/{variant}/results/tables/claims.csv",
        attacks="results/sensitivity/{variant}/results/tables/attacks.csv",
        comparison="results/sensitivity/{variant}/results/tables/baseline_comparison.csv",
    log:
        "logs/run_variant/{variant}.log",
    benchmark:
        "results/benchmarks/run_variant/{variant}.tsv"
    conda:
        "../envs/results.yaml"
    threads: workflow.cores
    resources:
        mem_mb=16000,
        runtime=720,
    params:
        settings=variant_config,
        snakefile=project_path("Snakefile"),
    script:
        "../workflow_scripts/run_variant.py"


rule build_sensitivity:
    input:
        claims=expand(rules.run_variant.output.claims, variant=sensitivity_variants()),
        attacks=expand(rules.run_variant.output.attacks, variant=sensitivity_variants()),
        code=package_modules("claims", "figures", "io"),
    output:
        table=report(
            "results/tables/sensitivity.csv",
            caption="../report/sensitivity_table.rst",
            category="claims",
        ),
        png=report(
            "results/figures/sensitivity.png",
            caption="../report/sensitivity_figure.rst",
            category="claims",
        ),
        pdf="results/figures/sensitivity.pdf",
    log:
        "logs/build_sensitivity/build_sensitivity.log",
    benchmark:
        "results/benchmarks/build_sensitivity/build_sensitivity.tsv"
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        variants=sensitivity_variants(),
        overrides=variant_overrides(),
    script:
        "../workflow_scripts/build_sensitivity.py"
