rule compute_robustness:
    input:
        points=rules.select_test_points.output.points,
        weights=PATHS["posterior"],
        attacks=evaluation_inputs("attacks"),
        evaluations=evaluation_inputs("evaluation"),
        rows=evaluation_inputs("evaluation_row"),
        relevance=evaluation_inputs("relevance"),
        code=package_modules(
            "explanation_metrics", "tables", "diagnostics", "models", "io"
        ),
    output:
        robustness="results/robustness/{dataset}/{model}/seed{seed}.csv",
        attacks="results/robustness/{dataset}/{model}/seed{seed}_attacks.csv",
        weights="results/robustness/{dataset}/{model}/seed{seed}_weights.csv",
        baselines="results/robustness/{dataset}/{model}/seed{seed}_baselines.csv",
    log:
        "logs/compute_robustness/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/compute_robustness/{dataset}/{model}/seed{seed}.tsv"
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    params:
        attacks=config["attacks"]["names"],
        attack_runs=lambda w: attack_runs(w.model),
        runs=lambda w: evaluation_runs(w.model),
        baselines=BASELINES,
        metrics=metric_settings(),
    script:
        "../workflow_scripts/compute_robustness.py"


rule build_tables:
    input:
        robustness=run_outputs("results/robustness/{dataset}/{model}/seed{seed}.csv"),
        attacks=run_outputs(
            "results/robustness/{dataset}/{model}/seed{seed}_attacks.csv"
        ),
        accuracy=run_outputs("results/accuracy/{dataset}/{model}/seed{seed}.csv"),
        fits=run_outputs(PATHS["fit_summary"]),
        convergence=mcmc_files("convergence.json"),
        weights=run_outputs(
            "results/robustness/{dataset}/{model}/seed{seed}_weights.csv"
        ),
        baselines=run_outputs(
            "results/robustness/{dataset}/{model}/seed{seed}_baselines.csv"
        ),
        sources=expand(
            "results/datasets/{dataset}/source.json", dataset=config["datasets"]
        ),
        code=package_modules("tables", "models", "io"),
    output:
        # per point and layer (tens of MB): on disk, not embedded in the report, which
        # carries robustness_summary.csv and baseline_comparison.csv instead
        robustness="results/tables/robustness.csv",
        attacks=report(
            "results/tables/attacks.csv",
            caption="../report/attacks_table.rst",
            category="attacks",
        ),
        accuracy=report(
            "results/tables/accuracy.csv",
            caption="../report/accuracy_table.rst",
            category="models",
        ),
        posterior=report(
            "results/tables/posterior.csv",
            caption="../report/posterior_table.rst",
            category="models",
        ),
        baselines="results/tables/baselines.csv",
        data_sources=report(
            "results/tables/data_sources.csv",
            caption="../report/data_sources.rst",
            category="data",
        ),
    log:
        "logs/build_tables/build_tables.log",
    benchmark:
        "results/benchmarks/build_tables/build_tables.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        runs=model_runs(),
        mcmc_runs=mcmc_runs(),
    script:
        "../workflow_scripts/build_tables.py"


rule describe_settings:
    input:
        defaults=project_path("config.yaml"),
        paper=project_path("configs/paper.yaml"),
        code=package_modules("tables", "io"),
    output:
        settings=report(
            "results/tables/settings.csv",
            caption="../report/settings_table.rst",
            category="settings",
        ),
    log:
        "logs/describe_settings/describe_settings.log",
    benchmark:
        "results/benchmarks/describe_settings/describe_settings.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        settings=canonical(config),
    script:
        "../workflow_scripts/describe_settings.py"


rule summarise_robustness:
    input:
        robustness=rules.build_tables.output.robustness,
        code=package_modules("tables", "io"),
    output:
        summary=report(
            "results/tables/robustness_summary.csv",
            caption="../report/robustness_summary.rst",
            category="robustness",
        ),
    log:
        "logs/summarise_robustness/summarise_robustness.log",
    benchmark:
        "results/benchmarks/summarise_robustness/summarise_robustness.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        bootstrap=config["claims"]["bootstrap"],
        confidence=config["claims"]["confidence"],
        seed=config["claims"]["bootstrap_seed"],
    script:
        "../workflow_scripts/summarise_robustness.py"


# Apart from the claims, so that the probes' summaries, which flag by the gates too, need
# not wait for the claims' bootstrap (the run's last minutes otherwise hold one core idle).
rule gate_posteriors:
    input:
        posterior=rules.build_tables.output.posterior,
        accuracy=rules.build_tables.output.accuracy,
        code=package_modules("gates", "io"),
    output:
        gates=report(
            "results/tables/posterior_gates.csv",
            caption="../report/posterior_gates.rst",
            category="claims",
        ),
    log:
        "logs/gate_posteriors/gate_posteriors.log",
    benchmark:
        "results/benchmarks/gate_posteriors/gate_posteriors.tsv"
    priority: 1  # the claims wait for it
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        gates=canonical(config["claims"]["gates"]),
    script:
        "../workflow_scripts/gate_posteriors.py"


rule evaluate_claims:
    input:
        robustness=rules.build_tables.output.robustness,
        baselines=rules.build_tables.output.baselines,
        gates=rules.gate_posteriors.output.gates,
        code=package_modules("claims", "gates", "models", "io"),
    output:
        claims=report(
            "results/tables/claims.csv",
            caption="../report/claims_table.rst",
            category="claims",
        ),
        breakdown=report(
            "results/tables/claims_breakdown.csv",
            caption="../report/claims_breakdown.rst",
            category="claims",
        ),
        comparison=report(
            "results/tables/baseline_comparison.csv",
            caption="../report/baseline_comparison.rst",
            category="claims",
        ),
        by_explainer=report(
            "results/tables/claims_by_explainer.csv",
            caption="../report/claims_by_explainer.rst",
            category="claims",
        ),
    log:
        "logs/evaluate_claims/evaluate_claims.log",
    benchmark:
        "results/benchmarks/evaluate_claims/evaluate_claims.tsv"
    # The run's last long job: first among the ready, beside the figures (on 2 cores, a
    # 2-thread job started only once every other job had finished).
    priority: 1
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: beside_others(4)  # the breakdown's slices bootstrap in parallel
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        claims=canonical(config["claims"]),
    script:
        "../workflow_scripts/evaluate_claims.py"


rule flag_masking:
    input:
        robustness=rules.build_tables.output.robustness,
        attacks=rules.build_tables.output.attacks,
        sweep=lambda w: sweep_table(),  # plot_epsilon_sweep: defined in figures.smk
        code=package_modules("masking", "io"),
    output:
        flags=report(
            "results/tables/masking.csv",
            caption="../report/masking_table.rst",
            category="attacks",
        ),
    log:
        "logs/flag_masking/flag_masking.log",
    benchmark:
        "results/benchmarks/flag_masking/flag_masking.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=5,
    params:
        alpha=config["attacks"]["masking"]["alpha"],
        max_zero_gradient=config["attacks"]["masking"]["max_zero_gradient"],
        transfer_source=config["attacks"]["transfer"]["source"],
    script:
        "../workflow_scripts/flag_masking.py"


rule summarise_geometry:
    input:
        tables=run_outputs(rules.probe_geometry.output.table),
        gates=rules.gate_posteriors.output.gates,
        code=package_modules("geometry_claims", "figures", "io"),
    output:
        table=report(
            "results/tables/geometry.csv",
            caption="../report/geometry_table.rst",
            category="claims",
        ),
        claims=report(
            "results/tables/geometry_claims.csv",
            caption="../report/geometry_claims.rst",
            category="claims",
        ),
        figure=report(
            "results/figures/geometry.png",
            caption="../report/geometry.rst",
            category="claims",
        ),
        pdf="results/figures/geometry.pdf",
    log:
        "logs/summarise_geometry/summarise_geometry.log",
    benchmark:
        "results/benchmarks/summarise_geometry/summarise_geometry.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        claims=canonical(config["claims"]),
    script:
        "../workflow_scripts/summarise_geometry.py"


rule summarise_stability:
    input:
        tables=run_outputs(rules.probe_stability.output.table),
        gates=rules.gate_posteriors.output.gates,
        code=package_modules("stability_claims", "paired_claims", "figures", "io"),
    output:
        table=report(
            "results/tables/stability.csv",
            caption="../report/stability_table.rst",
            category="claims",
        ),
        claims=report(
            "results/tables/stability_claims.csv",
            caption="../report/stability_claims.rst",
            category="claims",
        ),
        figure=report(
            "results/figures/stability.png",
            caption="../report/stability.rst",
            category="claims",
        ),
        pdf="results/figures/stability.pdf",
    log:
        "logs/summarise_stability/summarise_stability.log",
    benchmark:
        "results/benchmarks/summarise_stability/summarise_stability.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        claims=canonical(config["claims"]),
    script:
        "../workflow_scripts/summarise_stability.py"


rule summarise_faithfulness:
    input:
        tables=run_outputs(rules.probe_faithfulness.output.table),
        gates=rules.gate_posteriors.output.gates,
        robustness=rules.build_tables.output.robustness,
        code=package_modules(
            "faithfulness_claims", "paired_claims", "claims", "figures", "io"
        ),
    output:
        table=report(
            "results/tables/faithfulness.csv",
            caption="../report/faithfulness_table.rst",
            category="claims",
        ),
        claims=report(
            "results/tables/faithfulness_claims.csv",
            caption="../report/faithfulness_claims.rst",
            category="claims",
        ),
        figure=report(
            "results/figures/faithfulness.png",
            caption="../report/faithfulness.rst",
            category="claims",
        ),
        pdf="results/figures/faithfulness.pdf",
    log:
        "logs/summarise_faithfulness/summarise_faithfulness.log",
    benchmark:
        "results/benchmarks/summarise_faithfulness/summarise_faithfulness.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        claims=canonical(config["claims"]),
    script:
        "../workflow_scripts/summarise_faithfulness.py"


rule write_summary:
    input:
        claims=rules.evaluate_claims.output.claims,
        breakdown=rules.evaluate_claims.output.breakdown,
        comparison=rules.evaluate_claims.output.comparison,
        by_explainer=rules.evaluate_claims.output.by_explainer,
        attacks=rules.build_tables.output.attacks,
        accuracy=rules.build_tables.output.accuracy,
        masking=rules.flag_masking.output.flags,
        sensitivity=sensitivity_outputs("table"),
        geometry=rules.summarise_geometry.output.table,
        geometry_claims=rules.summarise_geometry.output.claims,
        stability=rules.summarise_stability.output.table,
        stability_claims=rules.summarise_stability.output.claims,
        faithfulness=rules.summarise_faithfulness.output.table,
        faithfulness_claims=rules.summarise_faithfulness.output.claims,
        description=project_path("report/workflow.rst"),
        code=package_modules("summary_text", "claims", "io"),
    output:
        summary="results/report/summary.rst",
    log:
        "logs/write_summary/write_summary.log",
    benchmark:
        "results/benchmarks/write_summary/write_summary.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        claims=canonical(config["claims"]),
    script:
        "../workflow_scripts/write_summary.py"
