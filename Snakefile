from snakemake.utils import min_version

min_version("9.0")


# The defaults; --configfile presets (configs/*.yaml) override them key by key.
configfile: f"{workflow.basedir}/config.yaml"


report: "report/workflow.rst"


include: "rules/common.smk"


# Seconds of work each: on a cluster they run on the submitting node, not as jobs.
localrules:
    all,
    tables,
    figures,
    select_test_points,
    sample_vi_posterior,
    build_tables,
    describe_settings,
    plot_robustness,


include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/attacks.smk"
include: "rules/relevance.smk"
include: "rules/tables.smk"
include: "rules/figures.smk"


rule all:
    default_target: True
    input:
        rules.build_tables.output,
        rules.describe_settings.output,
        rules.plot_robustness.output,


rule tables:
    input:
        rules.build_tables.output,
        rules.describe_settings.output,


rule figures:
    input:
        rules.plot_robustness.output,
