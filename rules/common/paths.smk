# Artifact paths, defined once: rules, input functions and figures format these.
PATHS = {
    "points": "results/data/{dataset}/test_points.pt",
    "posterior": "results/posterior/{dataset}/{model}/seed{seed}/weights.pt",
    "fit_summary": "results/posterior/{dataset}/{model}/seed{seed}/fit_summary.json",
    "attacks": "results/attacks/{dataset}/{model}/seed{seed}/{attack}.pt",
    # what generate_attack's evaluation needs on the clean points, computed once per model
    "clean_evaluation": "results/attacks/{dataset}/{model}/seed{seed}/clean_evaluation.pt",
    "evaluation": "results/attacks/{dataset}/{model}/seed{seed}/{attack}_evaluation.pt",
    "evaluation_row": "results/attacks/{dataset}/{model}/seed{seed}/{attack}_evaluation.json",
    # every explainer of the model in one file (keys io.relevance_key): one job per model
    # and attack, not per explainer too
    "clean_relevance": "results/relevance/{dataset}/{model}/seed{seed}/clean.pt",
    "relevance": "results/relevance/{dataset}/{model}/seed{seed}/{attack}.pt",
}
