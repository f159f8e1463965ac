rule train_deterministic:
    input:
        train=rules.download_dataset.output.train,
        code=package_modules(
            "models", "inference", "posterior", "data", "io", "runtime"
        ),
    output:
        weights="results/posterior/{dataset}/{arch}_det/seed{seed}/weights.pt",
        summary="results/posterior/{dataset}/{arch}_det/seed{seed}/train_summary.json",
    log:
        "logs/train_deterministic/{dataset}/{arch}_det/seed{seed}.log",
    benchmark:
        "benchmarks/train_deterministic/{dataset}/{arch}_det/seed{seed}.tsv"
    conda:
        "../envs/bayeslrp.yaml"
    threads: workflow.cores
    resources:
        mem_mb=4000,
        runtime=60,
    params:
        hidden=hidden,
        epochs=config["train"]["det"]["epochs"],
        lr=config["train"]["det"]["lr"],
        batch_size=config["train"]["det"]["batch_size"],
        train_size=config["train"]["det"]["train_size"],
        device=config["device"],
    script:
        "../workflow_scripts/train_deterministic.py"


rule evaluate_accuracy:
    input:
        test=rules.download_dataset.output.test,
        weights="results/posterior/{dataset}/{model}/seed{seed}/weights.pt",
        code=package_modules("models", "posterior", "data", "io", "runtime"),
    output:
        accuracy="results/accuracy/{dataset}/{model}/seed{seed}.csv",
    log:
        "logs/evaluate_accuracy/{dataset}/{model}/seed{seed}.log",
    conda:
        "../envs/bayeslrp.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    params:
        hidden=hidden,
        n_samples=lambda w: n_samples(w.model),
        device=config["device"],
    script:
        "../workflow_scripts/evaluate_accuracy.py"
