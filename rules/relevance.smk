rule compute_relevance:
    input:
        points=rules.select_test_points.output.points,
        weights="results/posterior/{dataset}/{model}/seed{seed}/weights.pt",
        adversarial="results/attacks/{dataset}/{model}/seed{seed}/{attack}_samples{n}.pt",
        code=package_modules("lrp", "models", "posterior", "io", "runtime"),
    output:
        relevance="results/relevance/{dataset}/{model}/seed{seed}/{attack}_samples{n}_layer{layer}.pt",
    log:
        "logs/compute_relevance/{dataset}/{model}/seed{seed}/{attack}_samples{n}_layer{layer}.log",
    benchmark:
        "benchmarks/compute_relevance/{dataset}/{model}/seed{seed}/{attack}_samples{n}_layer{layer}.tsv"
    conda:
        "../envs/bayeslrp.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    params:
        hidden=hidden,
        epsilon=config["lrp"]["epsilon"],
        inner_start=config["lrp"]["inner_start"],
        device=config["device"],
    script:
        "../workflow_scripts/compute_relevance.py"
