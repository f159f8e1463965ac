rule fit_posterior:
    # The families of names.FITTED (det, ensemble, weight_noise, ...): a new family is a
    # module with a `fit`, an entry there and a schema block, not a rule.
    input:
        train=rules.download_dataset.output.train,
        base=det_base,
        code=family_modules,
    output:
        weights="results/posterior/{dataset}/{arch}_{inference}/seed{seed}/weights.pt",
        summary="results/posterior/{dataset}/{arch}_{inference}/seed{seed}/fit_summary.json",
    log:
        "logs/fit_posterior/{dataset}/{arch}_{inference}/seed{seed}.log",
    benchmark:
        "results/benchmarks/fit_posterior/{dataset}/{arch}_{inference}/seed{seed}.tsv"
    wildcard_constraints:
        inference=alternatives(FITTED),
    conda:
        "../envs/train.yaml"
    # one: these nets barely use a second thread (1.2 cores of 2 measured at the default
    # scale), and a second job fills the core a two-thread job would hold idle
    threads: 1
    resources:
        mem_mb=4000,
        runtime=fit_runtime,
    params:
        hidden=hidden,
        settings=family_settings,
        device=config["device"],
    script:
        "../workflow_scripts/fit_posterior.py"


rule fit_vi:
    input:
        train=rules.download_dataset.output.train,
        code=package_modules(
            "models", "bayes", "vi", "posterior", "data", "io", "runtime"
        ),
    output:
        guide="results/models/{dataset}/{arch}_vi/seed{seed}/guide.pt",
        summary="results/posterior/{dataset}/{arch}_vi/seed{seed}/fit_summary.json",
    log:
        "logs/fit_vi/{dataset}/{arch}_vi/seed{seed}.log",
    benchmark:
        "results/benchmarks/fit_vi/{dataset}/{arch}_vi/seed{seed}.tsv"
    conda:
        "../envs/train.yaml"
    # one: these nets barely use a second thread (1.2 cores of 2 measured at the default
    # scale), and a second job fills the core a two-thread job would hold idle
    threads: 1
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        hidden=hidden,
        epochs=per_job("vi", "epochs"),
        lr=per_job("vi", "lr"),
        batch_size=config["vi"]["batch_size"],
        num_particles=config["vi"]["num_particles"],
        backend=config["vi"]["backend"],
        init_scale=config["vi"]["init_scale"],
        guide_init=config["vi"]["guide_init"],
        prior_scale=config["vi"]["prior_scale"],
        train_size=config["vi"]["train_size"],
        device=config["device"],
    script:
        "../workflow_scripts/fit_vi.py"


rule sample_vi_posterior:
    input:
        guide=rules.fit_vi.output.guide,
        code=package_modules("vi", "io"),
    output:
        weights="results/posterior/{dataset}/{arch}_vi/seed{seed}/weights.pt",
    log:
        "logs/sample_vi_posterior/{dataset}/{arch}_vi/seed{seed}.log",
    benchmark:
        "results/benchmarks/sample_vi_posterior/{dataset}/{arch}_vi/seed{seed}.tsv"
    # seconds of work: on a cluster it runs on the submitting node, not as a job
    localrule: True
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        n_samples=max(config["n_samples"]),
    script:
        "../workflow_scripts/sample_vi_posterior.py"


rule run_hmc_chain:
    input:
        train=rules.download_dataset.output.train,
        start=hmc_start_weights,
        code=package_modules("models", "bayes", "hmc", "posterior", "data", "io"),
    output:
        draws="results/posterior/{dataset}/{arch}_hmc/seed{seed}/chain{chain}/draws.pt",
        summary="results/posterior/{dataset}/{arch}_hmc/seed{seed}/chain{chain}/chain.json",
    log:
        "logs/run_hmc_chain/{dataset}/{arch}_hmc/seed{seed}/chain{chain}.log",
    benchmark:
        "results/benchmarks/run_hmc_chain/{dataset}/{arch}_hmc/seed{seed}/chain{chain}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=8000,
        runtime=600,
    params:
        hidden=hidden,
        hmc=chain_settings(),
        device=config["device"],
    script:
        "../workflow_scripts/run_hmc_chain.py"


rule merge_hmc_chains:
    input:
        chains=hmc_chain_draws,
        summaries=hmc_chain_summaries,
        code=package_modules("hmc", "posterior", "io"),
    output:
        weights="results/posterior/{dataset}/{arch}_hmc/seed{seed}/weights.pt",
        summary="results/posterior/{dataset}/{arch}_hmc/seed{seed}/fit_summary.json",
    log:
        "logs/merge_hmc_chains/{dataset}/{arch}_hmc/seed{seed}.log",
    benchmark:
        "results/benchmarks/merge_hmc_chains/{dataset}/{arch}_hmc/seed{seed}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        hmc=canonical({k: v for k, v in config["hmc"].items() if k != "log_every"}),
    script:
        "../workflow_scripts/merge_hmc_chains.py"


rule judge_hmc_convergence:
    input:
        chains=hmc_chain_draws,
        test=rules.download_dataset.output.test,
        code=package_modules(
            "models", "hmc", "convergence", "lrp", "topk", "posterior", "data", "io"
        ),
    output:
        statistics="results/posterior/{dataset}/{arch}_hmc/seed{seed}/convergence.json",
        points="results/posterior/{dataset}/{arch}_hmc/seed{seed}/function_space.csv",
        trace="results/posterior/{dataset}/{arch}_hmc/seed{seed}/trace.csv",
    log:
        "logs/judge_hmc_convergence/{dataset}/{arch}_hmc/seed{seed}.log",
    benchmark:
        "results/benchmarks/judge_hmc_convergence/{dataset}/{arch}_hmc/seed{seed}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        hidden=hidden,
        device=config["device"],
    script:
        "../workflow_scripts/judge_convergence.py"


rule judge_sgmcmc_convergence:
    input:
        weights="results/posterior/{dataset}/{arch}_sgmcmc/seed{seed}/weights.pt",
        summary="results/posterior/{dataset}/{arch}_sgmcmc/seed{seed}/fit_summary.json",
        test=rules.download_dataset.output.test,
        code=package_modules(
            "models", "hmc", "convergence", "lrp", "topk", "posterior", "data", "io"
        ),
    output:
        statistics="results/posterior/{dataset}/{arch}_sgmcmc/seed{seed}/convergence.json",
        points="results/posterior/{dataset}/{arch}_sgmcmc/seed{seed}/function_space.csv",
        trace="results/posterior/{dataset}/{arch}_sgmcmc/seed{seed}/trace.csv",
    log:
        "logs/judge_sgmcmc_convergence/{dataset}/{arch}_sgmcmc/seed{seed}.log",
    benchmark:
        "results/benchmarks/judge_sgmcmc_convergence/{dataset}/{arch}_sgmcmc/seed{seed}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        hidden=hidden,
        device=config["device"],
    script:
        "../workflow_scripts/judge_convergence.py"


rule evaluate_accuracy:
    input:
        test=rules.download_dataset.output.test,
        weights=PATHS["posterior"],
        code=package_modules("models", "posterior", "data", "calibration", "io"),
    output:
        accuracy="results/accuracy/{dataset}/{model}/seed{seed}.csv",
    log:
        "logs/evaluate_accuracy/{dataset}/{model}/seed{seed}.log",
    benchmark:
        "results/benchmarks/evaluate_accuracy/{dataset}/{model}/seed{seed}.tsv"
    conda:
        "../envs/train.yaml"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=10,
    params:
        hidden=hidden,
        n_samples=lambda w: n_samples(w.model),
        images=config["data"]["accuracy_images"],
        seed=config["data"]["selection_seed"],
        device=config["device"],
    script:
        "../workflow_scripts/evaluate_accuracy.py"
