rule plot_robustness:
    input:
        robustness=rules.build_tables.output.robustness,
        code=package_modules("figures"),
    output:
        png=report(
            "results/figures/lrp_robustness.png",
            caption="../report/lrp_robustness.rst",
            category="robustness",
        ),
        pdf="results/figures/lrp_robustness.pdf",
    log:
        "logs/plot_robustness/plot_robustness.log",
    conda:
        "../envs/bayeslrp.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    script:
        "../workflow_scripts/plot_robustness.py"
