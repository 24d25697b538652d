"""Import speed and memory at 10,000 and 100,000 issues, against a plain COPY; then the search index and
the rendered bodies, until every issue is searchable and shown.

For each size: generate a REST-format JSON Lines dump (`bench.generate_dump`),
import it into a fresh database with `manage.py import_issues` (wall time and
peak RSS of that process), import it again unchanged, time a plain
PostgreSQL `COPY` of the same rows into a scratch table with the issues
table's columns and no indexes, then build the search index
(`index_issues`) and render every body and comment (`render_issues --all`).

Targets (issue #18), for 100,000 issues: import ≤ 1.3 × COPY, re-import ≤ 25 %
of the import, peak RSS ≤ 300 MB; import + index + render ≤ 2.5 × COPY.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from bench import save_results

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "annotator_bench"
TARGETS = {"import_over_copy": 1.3, "reimport_pct": 25, "peak_rss_mb": 300, "usable_over_copy": 2.5}
COPY_COLUMNS = (
    "repository_id, number, title, body, author_login, state, state_reason, labels, created_at, updated_at, "
    "closed_at, html_url, is_pull_request, payload, import_hash"
)


def manage(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


def timed(*args: str, env: dict) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and output of one manage.py command."""
    started = time.monotonic()
    process = manage(*args, env=env)
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    if process.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{output}")
    return seconds, usage.ru_maxrss / 1024, output


def admin_url() -> str:
    """A URL to the server's maintenance database: DATABASE_URL's server, or the embedded one."""
    from annotator import embedded_postgres

    embedded_postgres.start_if_needed()
    return _with_database(os.environ["DATABASE_URL"], "postgres")


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def fresh_database(admin: str) -> str:
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {DATABASE}")
    return _with_database(admin, DATABASE)


def plain_copy_seconds(url: str, workdir: Path) -> float:
    """COPY the imported rows, exported to a file first, into a scratch table; only the COPY is timed."""
    rows = workdir / "rows.copy"
    with psycopg.connect(url, autocommit=True) as connection, connection.cursor() as cursor:
        with rows.open("wb") as file, cursor.copy(f"COPY issues_issue ({COPY_COLUMNS}) TO STDOUT") as copy:
            for block in copy:
                file.write(block)
        cursor.execute("DROP TABLE IF EXISTS bench_copy")
        cursor.execute("CREATE TABLE bench_copy (LIKE issues_issue INCLUDING DEFAULTS INCLUDING IDENTITY)")
        started = time.monotonic()
        with rows.open("rb") as file, cursor.copy(f"COPY bench_copy ({COPY_COLUMNS}) FROM STDIN") as copy:
            while block := file.read(1024 * 1024):
                copy.write(block)
        seconds = time.monotonic() - started
        cursor.execute("DROP TABLE bench_copy")
    rows.unlink()
    return seconds


def bench_size(count: int, workdir: Path, admin: str) -> dict:
    dump = workdir / f"issues-{count}.jsonl"
    print(f"[{count:,} issues] generating the dump …", end=" ", flush=True)
    subprocess.run(
        [sys.executable, "-m", "bench.generate_dump", str(count), "-o", str(dump)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    size_mb = dump.stat().st_size / 1e6
    url = fresh_database(admin)
    env = {**os.environ, "DATABASE_URL": url}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    print(f"{size_mb:,.0f} MB; importing …", end=" ", flush=True)
    first, rss, output = timed("import_issues", str(dump), env=env)
    assert re.search(r"\bfailed +0\n", output) and f"{count:,} records read" in output, output
    print(f"{first:.1f} s; again …", end=" ", flush=True)
    again, rss_again, output = timed("import_issues", str(dump), env=env)
    print(f"{again:.1f} s; plain COPY …", end=" ", flush=True)
    copy = plain_copy_seconds(url, workdir)
    print(f"{copy:.1f} s; search index …", end=" ", flush=True)
    index, _, _ = timed("index_issues", env=env)
    print(f"{index:.1f} s; rendering …", end=" ", flush=True)
    render, _, _ = timed("render_issues", "--all", env=env)
    print(f"{render:.1f} s")
    strategies = {}
    if count <= 10_000:
        print(f"[{count:,} issues] COPY + merge against bulk_create …", end=" ", flush=True)
        code = f"from bench.write_strategies import main; from pathlib import Path; main(Path({str(dump)!r}))"
        output = subprocess.run(
            [sys.executable, "manage.py", "shell", "-v0", "-c", code],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        strategies = json.loads(output.strip().splitlines()[-1])
        print(f"{strategies['copy_merge_s']} s against {strategies['bulk_create_s']} s")
    dump.unlink()
    return {
        "issues": count,
        "dump_mb": round(size_mb),
        "import_s": round(first, 1),
        "peak_rss_mb": round(rss),
        "reimport_s": round(again, 1),
        "reimport_pct": round(100 * again / first),
        "copy_s": round(copy, 1),
        "import_over_copy": round(first / copy, 2),
        "index_s": round(index, 1),
        "render_s": round(render, 1),
        "usable_over_copy": round((first + index + render) / copy, 2),
        "write_copy_merge_s": strategies.get("copy_merge_s", ""),
        "write_bulk_create_s": strategies.get("bulk_create_s", ""),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    admin = admin_url()
    results = []
    with tempfile.TemporaryDirectory(prefix="annotator-bench-") as workdir:
        try:
            for count in args.sizes:
                results.append(bench_size(count, Path(workdir), admin))
        finally:
            with psycopg.connect(admin, autocommit=True) as connection:
                connection.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")

    print("\nimports: REST JSON Lines dump → embedded PostgreSQL; usable: import + index + render")
    print(
        f"{'issues':>8} {'MB':>5} {'import s':>9} {'peak MB':>8} {'again s':>8} {'again %':>8} {'COPY s':>7} "
        f"{'÷ COPY':>7} {'index s':>8} {'render s':>9} {'usable ÷ COPY':>14}"
    )
    for r in results:
        print(
            f"{r['issues']:>8,} {r['dump_mb']:>5} {r['import_s']:>9} {r['peak_rss_mb']:>8} {r['reimport_s']:>8} "
            f"{r['reimport_pct']:>8} {r['copy_s']:>7} {r['import_over_copy']:>7} {r['index_s']:>8} "
            f"{r['render_s']:>9} {r['usable_over_copy']:>14}"
        )
    largest = max(results, key=lambda r: r["issues"])
    print(f"\ntargets at {largest['issues']:,} issues (issue #18):")
    for name, value, target, unit in (
        ("import ÷ COPY", largest["import_over_copy"], TARGETS["import_over_copy"], "×"),
        ("re-import ÷ import", largest["reimport_pct"], TARGETS["reimport_pct"], " %"),
        ("peak RSS", largest["peak_rss_mb"], TARGETS["peak_rss_mb"], " MB"),
        ("import + index + render ÷ COPY", largest["usable_over_copy"], TARGETS["usable_over_copy"], "×"),
    ):
        print(f"  {name:<32} {value:>8}{unit:<3} target ≤ {target}{unit:<3} {'met' if value <= target else 'NOT met'}")
    save_results("imports", results)


if __name__ == "__main__":
    main()
