"""20 researchers labelling for 10 minutes against gunicorn (2 workers) on 100,000 imported issues (issue #7).

The scenario of bench/annotation.py, longer and with twice the users. Targets:
no failed request, annotation page p95 ≤ 100 ms, saves p95 ≤ 50 ms, and the
memory of every process flat over the run (first minute against last minute).
"""

from bench import annotation

TARGETS = {"page": 100, "save": 50, "list": None}  # p95, ms; the issue list is measured, with no target here


def main() -> None:
    annotation.main(title="load", clients=20, seconds=600, targets=TARGETS, during_import=False)


if __name__ == "__main__":
    main()
