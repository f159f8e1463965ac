# Each variant of the sensitivity study is this workflow loaded again as a Snakemake module
# with the variant's config, writing under results/sensitivity/<variant>/: its jobs join
# this DAG, scheduled and distributed (on a cluster) like every other job. It takes from
# this run what its settings cannot change: the datasets, and the trained nets when it
# trains them as this run does (a variant of an analysis option trains nothing).
# (The module and use-rule statements spelled as the calls they compile to: their names and
# excluded rules are computed per variant.)
for _variant in sensitivity_variants():
    workflow.module(
        variant_module(_variant),
        snakefile=workflow.main_snakefile,
        config=variant_settings(_variant),
        replace_prefix=variant_paths(_variant),
    )
    workflow.userule(
        rules=["*"],
        from_module=variant_module(_variant),
        exclude_rules=shared_rules(_variant),
        name_modifier=f"{variant_module(_variant)}_*",
    )(lambda: None)


rule build_sensitivity:
    input:
        claims=expand(
            "results/sensitivity/{variant}/results/tables/claims.csv",
            variant=sensitivity_variants(),
        ),
        attacks=expand(
            "results/sensitivity/{variant}/results/tables/attacks.csv",
            variant=sensitivity_variants(),
        ),
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
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
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
