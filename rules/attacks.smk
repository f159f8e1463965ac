rule attack_fgsm:
    input:
        points=rules.select_test_points.output.points,
        weights="results/posterior/{dataset}/{model}/seed{seed}/weights.pt",
        code=package_modules("attacks", "models", "posterior", "io", "runtime"),
    output:
        adversarial="results/attacks/{dataset}/{model}/seed{seed}/fgsm_samples{n}.pt",
    log:
        "logs/attack_fgsm/{dataset}/{model}/seed{seed}/samples{n}.log",
    benchmark:
        "benchmarks/attack_fgsm/{dataset}/{model}/seed{seed}/samples{n}.tsv"
    conda:
        "../envs/bayeslrp.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        hidden=hidden,
        epsilon=config["attacks"]["fgsm"]["epsilon"],
        device=config["device"],
    script:
        "../workflow_scripts/attack_fgsm.py"
