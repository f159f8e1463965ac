rule plot_heatmaps:
    input:
        points=heatmap_inputs("points"),
        attacks=heatmap_inputs("attacks"),
        relevance=heatmap_inputs("relevance"),
        robustness=rules.build_tables.output.robustness,
        code=package_modules("heatmap_examples", "figures", "models", "io"),
    output:
        fig1=report(
            "results/figures/fig1_heatmaps.png",
            caption="../report/fig1_heatmaps.rst",
            category="relevance",
        ),
        fig2=report(
            "results/figures/fig2_topk_overlap.png",
            caption="../report/fig2_topk_overlap.rst",
            category="relevance",
        ),
        fig3=report(
            "results/figures/fig3_inner_layers.png",
            caption="../report/fig3_inner_layers.rst",
            category="relevance",
        ),
        pdf=multiext(
            "results/figures/fig",
            "1_heatmaps.pdf",
            "2_topk_overlap.pdf",
            "3_inner_layers.pdf",
        ),
    log:
        "logs/plot_heatmaps/plot_heatmaps.log",
    benchmark:
        "results/benchmarks/plot_heatmaps/plot_heatmaps.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        examples=heatmap_examples(),
        example_dataset=example_dataset(),
        k=max(config["metrics"]["topk_overlap"]["k"]),
        topk_mode=config["metrics"]["topk_overlap"]["mode"],
    script:
        "../workflow_scripts/plot_heatmaps.py"


rule plot_explanation_attack:
    input:
        points=explanation_attack_inputs("points"),
        attacks=explanation_attack_inputs("attacks"),
        relevance=explanation_attack_inputs("relevance"),
        robustness=rules.build_tables.output.robustness,
        code=package_modules("heatmap_examples", "figures", "io"),
    output:
        png=report(
            "results/figures/explanation_attack.png",
            caption="../report/explanation_attack.rst",
            category="relevance",
        ),
        pdf="results/figures/explanation_attack.pdf",
    log:
        "logs/plot_explanation_attack/plot_explanation_attack.log",
    benchmark:
        "results/benchmarks/plot_explanation_attack/plot_explanation_attack.tsv"
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        examples=explanation_attack_examples(),
        k=max(config["metrics"]["topk_overlap"]["k"]),
        topk_mode=config["metrics"]["topk_overlap"]["mode"],
    script:
        "../workflow_scripts/plot_explanation_attack.py"


rule plot_model_robustness:
    input:
        robustness=rules.build_tables.output.robustness,
        code=package_modules("figures", "tables", "models"),
    output:
        distributions=report(
            "results/figures/lrp_robustness_{dataset}_{model}.png",
            caption="../report/lrp_robustness.rst",
            category="robustness",
            subcategory="{dataset}",
        ),
        correlation=report(
            "results/figures/lrp_vs_softmax_{dataset}_{model}.png",
            caption="../report/lrp_vs_softmax.rst",
            category="robustness",
            subcategory="{dataset}",
        ),
        pdf=multiext(
            "results/figures/lrp_",
            "robustness_{dataset}_{model}.pdf",
            "vs_softmax_{dataset}_{model}.pdf",
        ),
    log:
        "logs/plot_model_robustness/{dataset}_{model}.log",
    benchmark:
        "results/benchmarks/plot_model_robustness/{dataset}_{model}.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        ks=config["metrics"]["topk_overlap"]["k"],
        k_correlation=config["claims"]["k_correlation"],
    script:
        "../workflow_scripts/plot_model_robustness.py"


rule plot_diagnostics:
    input:
        accuracy=rules.build_tables.output.accuracy,
        attacks=rules.build_tables.output.attacks,
        posterior=rules.build_tables.output.posterior,
        code=package_modules("figures"),
    output:
        accuracy=report(
            "results/figures/accuracy_attack_success.png",
            caption="../report/accuracy_attack_success.rst",
            category="models",
        ),
        posterior=report(
            "results/figures/posterior_diagnostics.png",
            caption="../report/posterior_diagnostics.rst",
            category="models",
        ),
        pdf=multiext(
            "results/figures/",
            "accuracy_attack_success.pdf",
            "posterior_diagnostics.pdf",
        ),
    log:
        "logs/plot_diagnostics/plot_diagnostics.log",
    benchmark:
        "results/benchmarks/plot_diagnostics/plot_diagnostics.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    script:
        "../workflow_scripts/plot_diagnostics.py"


rule plot_convergence:
    input:
        points=mcmc_files("function_space.csv"),
        trace=mcmc_files("trace.csv"),
        code=package_modules("figures"),
    output:
        rhat=report(
            "results/figures/hmc_rhat.png",
            caption="../report/hmc_rhat.rst",
            category="models",
        ),
        traces=report(
            "results/figures/hmc_traces.png",
            caption="../report/hmc_traces.rst",
            category="models",
        ),
        pdf=multiext("results/figures/", "hmc_rhat.pdf", "hmc_traces.pdf"),
    log:
        "logs/plot_convergence/plot_convergence.log",
    benchmark:
        "results/benchmarks/plot_convergence/plot_convergence.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        runs=mcmc_runs(),
    script:
        "../workflow_scripts/plot_convergence.py"


rule plot_heatmap_uncertainty:
    input:
        relevance=uncertainty_inputs("clean_relevance"),
        points=uncertainty_inputs("points"),
        code=package_modules("heatmap_uncertainty", "figures"),
    output:
        table=report(
            "results/tables/heatmap_uncertainty.csv",
            caption="../report/heatmap_uncertainty_table.rst",
            category="relevance",
        ),
        png=report(
            "results/figures/heatmap_uncertainty.png",
            caption="../report/heatmap_uncertainty.rst",
            category="relevance",
        ),
        pdf="results/figures/heatmap_uncertainty.pdf",
    log:
        "logs/plot_heatmap_uncertainty/plot_heatmap_uncertainty.log",
    benchmark:
        "results/benchmarks/plot_heatmap_uncertainty/plot_heatmap_uncertainty.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        runs=uncertainty_runs(),
        explainer=STUDY_EXPLAINER,
        k=config["claims"]["k"],
        topk_mode=config["metrics"]["topk_overlap"]["mode"],
    script:
        "../workflow_scripts/plot_heatmap_uncertainty.py"


rule plot_epsilon_sweep:
    input:
        tables=sweep_inputs(),
        code=package_modules("epsilon_sweep", "figures"),
    output:
        table=report(
            "results/tables/epsilon_sweep.csv",
            caption="../report/epsilon_sweep_table.rst",
            category="attacks",
        ),
        png=report(
            "results/figures/epsilon_sweep.png",
            caption="../report/epsilon_sweep.rst",
            category="attacks",
        ),
        pdf="results/figures/epsilon_sweep.pdf",
    log:
        "logs/plot_epsilon_sweep/plot_epsilon_sweep.log",
    benchmark:
        "results/benchmarks/plot_epsilon_sweep/plot_epsilon_sweep.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        max_adversarial_accuracy=config["attacks"]["sweep"]["max_adversarial_accuracy"],
    script:
        "../workflow_scripts/plot_epsilon_sweep.py"


rule plot_claims:
    input:
        breakdown=rules.evaluate_claims.output.breakdown,
        code=package_modules("figures"),
    output:
        png=report(
            "results/figures/claims.png",
            caption="../report/claims_figure.rst",
            category="claims",
        ),
        pdf="results/figures/claims.pdf",
    log:
        "logs/plot_claims/plot_claims.log",
    benchmark:
        "results/benchmarks/plot_claims/plot_claims.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/results.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    script:
        "../workflow_scripts/plot_claims.py"
