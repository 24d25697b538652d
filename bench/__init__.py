"""Benchmarks, run by `make bench`; each writes its raw results under bench/results/."""

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def save_results(name: str, results: list[dict]) -> None:
    path = ROOT / "bench" / "results" / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    print(f"\nRaw results: {path.relative_to(ROOT)}")
