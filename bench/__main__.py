"""`make bench`: run every benchmark under bench/ and print its table."""

import sys

from bench import agreement, annotation, imports, load, models, startup

if __name__ == "__main__":
    for benchmark in (startup, imports, annotation, agreement, load, models):
        sys.argv = sys.argv[:1]  # each takes its defaults
        benchmark.main()
        print()
