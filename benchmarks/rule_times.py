"""Where a run's time went: the per-rule table of its `benchmark:` files.

Every rule writes `results/benchmarks/<rule>/...tsv` (Snakemake's wall seconds, peak
memory and CPU time of the job); this sums them per rule, largest total first.

Usage: python benchmarks/rule_times.py [results/benchmarks]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def rule_times(root: Path) -> pd.DataFrame:
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        rule = path.relative_to(root).parts[0]
        table = pd.read_csv(path, sep="\t")
        rows.append({"rule": rule, "seconds": table["s"].mean(),
                     "cpu_seconds": table["cpu_time"].mean(),
                     "max_rss_mb": table["max_rss"].max()})  # fmt: skip
    if not rows:
        raise SystemExit(f"no benchmark files under {root}: run the workflow first")
    jobs = pd.DataFrame(rows)
    table = jobs.groupby("rule").agg(
        jobs=("seconds", "size"), total_s=("seconds", "sum"), mean_s=("seconds", "mean"),
        max_s=("seconds", "max"), cpu_s=("cpu_seconds", "sum"), max_rss_mb=("max_rss_mb", "max"),
    )  # fmt: skip
    table["share"] = table["total_s"] / table["total_s"].sum()
    return table.sort_values("total_s", ascending=False)


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "results/benchmarks")
    table = rule_times(root)
    print(table.to_string(float_format=lambda v: f"{v:.2f}"))
    print(f"\n{int(table['jobs'].sum())} jobs, {table['total_s'].sum():.0f} s of job wall time "
          f"(the run's wall time is less where jobs ran in parallel)")  # fmt: skip


if __name__ == "__main__":
    main()
