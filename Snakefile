from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")


# The defaults; --configfile presets (configs/*.yaml) override them key by key.
configfile: f"{workflow.basedir}/config.yaml"


# The report opens with the claims' verdicts once the claims rule has written them.
SUMMARY = Path("results/report/summary.rst").resolve()


report: str(SUMMARY) if SUMMARY.exists() else "report/workflow.rst"


include: "rules/common.smk"
include: "rules/data.smk"
include: "rules/train.smk"
include: "rules/attacks.smk"
include: "rules/relevance.smk"
include: "rules/tables.smk"
include: "rules/figures.smk"
include: "rules/sensitivity.smk"


rule tables:
    input:
        rules.build_tables.output,
        rules.flag_masking.output,
        rules.describe_settings.output,
        rules.summarise_robustness.output,
        rules.gate_posteriors.output,
        rules.evaluate_claims.output,
        rules.summarise_geometry.output,
        rules.summarise_stability.output,
        rules.summarise_faithfulness.output,
        rules.write_summary.output,
        sensitivity_outputs("table"),


rule figures:
    input:
        rules.plot_heatmaps.output,
        rules.plot_diagnostics.output,
        convergence_figures(),
        uncertainty_outputs(),
        sweep_outputs(),
        explanation_attack_outputs(),
        rules.plot_claims.output,
        sensitivity_outputs("png"),
        expand(
            rules.plot_model_robustness.output.distributions, zip, **figure_columns()
        ),
        expand(rules.plot_model_robustness.output.correlation, zip, **figure_columns()),


rule all:
    default_target: True
    input:
        rules.tables.input,
        rules.figures.input,
