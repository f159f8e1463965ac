rule download_dataset:
    input:
        code=package_modules("data", "io"),
    output:
        train="results/datasets/{dataset}/train.pt",
        test="results/datasets/{dataset}/test.pt",
        source="results/datasets/{dataset}/source.json",
    log:
        "logs/download_dataset/{dataset}.log",
    benchmark:
        "results/benchmarks/download_dataset/{dataset}.tsv"
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    params:
        sources=config["data"]["sources"],
        search_paths=lambda w: [
            project_path(p) for p in config["data"]["search_paths"][w.dataset]
        ],
        download_dir=project_path(config["data"]["download_dir"]),
        timeout=config["data"]["download_timeout"],
    script:
        "../workflow_scripts/download_dataset.py"


rule select_test_points:
    input:
        test=rules.download_dataset.output.test,
        code=package_modules("data", "io"),
    output:
        points=PATHS["points"],
    log:
        "logs/select_test_points/{dataset}.log",
    benchmark:
        "results/benchmarks/select_test_points/{dataset}.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/data.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        n_points=config["data"]["n_test_points"],
        seed=config["data"]["selection_seed"],
    script:
        "../workflow_scripts/select_test_points.py"
