"""Import benchmark: generate an NYC Open Data long-format file the size of the full MMR table (about 770,000
rows: 5,000 indicators with monthly values over 12 fiscal years and the running 13th) and import it through
``manage.py import_indicators`` with its progress bar, on the database ``DATABASE_URL`` points at.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/percolate_ingest .venv/bin/python benchmarks/bench_import.py

Then it imports wide MMR extracts (``--wide-columns``, 50,000 by default: 200 fiscal years of values, 200 of
4-month values, 200 of targets and the rest columns no format reads, ``--wide-rows`` indicators) the same way,
at a quarter, half and all of the columns, to show that the time grows linearly with the width.

Use a scratch database: earlier benchmark indicators (external ids ``B…``, ``MMR-DSNY-wide-benchmark-…``) are
deleted first so that every run measures a first import. The last line is ``RESULT rows=… seconds=…
rows_per_s=… peak_rss_mb=… wide_columns=… wide_seconds=…`` (peak RSS of this process, which both generates and
imports the files). Targets: the 770,000 rows in well under two minutes, the 50,000-column file under 5 s."""

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = [
    "id", "parentid", "agency", "agency_name", "service", "goal", "indicator", "description", "source", "retired",
    "desireddirection", "frequency", "reporting_period", "critical", "measurement_type", "additive",
    "multiplication_factor", "lagtime", "geo", "geotype", "geovalue", "fiscalyear", "valuedate", "acceptedvalue",
    "acceptedvalueytd", "targetmmr",
]  # fmt: skip
AGENCIES = [("DSNY", "Department of Sanitation"), ("DOT", "Department of Transportation"), ("NYPD", ("New York City "
            "Police Department")), ("HPD", "Housing Preservation and Development"), ("DOHMH", ("Department of Health "
            "and Mental Hygiene")), ("FDNY", "Fire Department of New York")]  # fmt: skip


def generate(path: Path, *, indicators: int, months: int, first_fiscal_year: int, seed: int = 4) -> int:
    """Write the file; returns its number of data rows. Deterministic for a given seed."""
    rng = random.Random(seed)
    rows = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(indicators):
            code, name = AGENCIES[n % len(AGENCIES)]
            percent = n % 3 == 0
            level = rng.uniform(40, 85) if percent else rng.uniform(100, 50_000)
            meta = [f"B{n:05d}", "", code, name, f"Service {n % 40}", f"Goal {n % 120}",
                    f"Benchmark indicator {n}" + (" (%)" if percent else ""), "Generated for the import benchmark",
                    code, "No", "Up" if n % 2 else "Down", "Monthly", "Fiscal Year", "Yes" if n % 7 == 0 else "No",
                    "Percentage" if percent else "Number", "No" if percent else "Yes", "1", "1", "No", "", "",
            ]  # fmt: skip
            year, month, ytd = first_fiscal_year - 1, 7, 0.0
            for _ in range(months):
                fiscal_year = year + 1 if month >= 7 else year
                value = round(level * rng.uniform(0.9, 1.1), 2)
                ytd = value if month == 7 else (ytd + value if not percent else value)
                target = f"{level:.0f}" if percent else "*"
                day = f"{year:04d}-{month:02d}-01T00:00:00.000"
                writer.writerow([*meta, fiscal_year, day, value, round(ytd, 2), target])
                rows += 1
                month, year = (1, year + 1) if month == 12 else (month + 1, year)
    return rows


WIDE_YEARS = range(1901, 2101)


def generate_wide(path: Path, *, columns: int, rows: int) -> None:
    """An MMR extract ``columns`` wide: per row (indicator) 200 fiscal-year values, 200 4-month values, 200
    targets, and notes in the other columns (which no format reads)."""
    header = ["agency", "mmr_goal", "critical", "performance_indicator", "desired_direction"]
    header += [f"fy{year}" for year in WIDE_YEARS] + [f"fy{year}_4_month_actual" for year in WIDE_YEARS]
    header += [f"tgt{year}" for year in WIDE_YEARS]
    notes = max(columns - len(header), 0)
    header += [f"note_{n}" for n in range(notes)]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in range(rows):
            writer.writerow(
                ["DSNY", "1a", "TRUE" if row % 2 else "FALSE", f"Wide benchmark indicator {row}", "Up"]
                + [f"{1000 + row + year % 7}" for year in WIDE_YEARS]
                + [f"{300 + row + year % 5}" for year in WIDE_YEARS]
                + [f"{1000 + row}" for year in WIDE_YEARS]
                + [f"n{n % 10}" for n in range(notes)]
            )


def import_wide(scratch: Path, *, columns: int, rows: int) -> float:
    """Seconds to import a wide extract as a first import (earlier wide benchmark indicators deleted)."""
    from django.core.management import call_command

    from indicators.models import ImportBatch, Indicator

    path = scratch / f"mmr-wide-{columns}.csv"
    generate_wide(path, columns=columns, rows=rows)
    Indicator.objects.filter(external_id__startswith="MMR-DSNY-wide-benchmark-").delete()
    ImportBatch.objects.filter(file_name=path.name).delete()
    started = time.perf_counter()
    call_command("import_indicators", str(path), "--no-progress")
    seconds = time.perf_counter() - started
    print(f"wide: {columns:,} columns x {rows} rows ({path.stat().st_size / 1e6:.1f} MB) imported in {seconds:.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--indicators", type=int, default=5000)
    parser.add_argument("--months", type=int, default=154, help="per indicator; 154 = 12 fiscal years + 10 months")
    parser.add_argument("--first-fiscal-year", type=int, default=2014)
    parser.add_argument("--keep", type=Path, help="also keep the generated file here")
    parser.add_argument("--file", type=Path, help="import this file instead of generating one (use an empty database)")
    parser.add_argument("--wide-columns", type=int, default=50_000, help="columns of the wide file (0: none)")
    parser.add_argument("--wide-rows", type=int, default=20, help="rows (indicators) of the wide file")
    parser.add_argument("--wide-only", action="store_true", help="only the wide files, not the long table")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ.setdefault("DJANGO_DEBUG", "0")  # DEBUG keeps the SQL of recent queries in memory
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    with tempfile.TemporaryDirectory() as scratch:
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        call_command("migrate", verbosity=0)
        wide = ""
        if args.wide_columns:
            for columns in (args.wide_columns // 4, args.wide_columns // 2, args.wide_columns):
                seconds = import_wide(Path(scratch), columns=columns, rows=args.wide_rows)
            wide = f" wide_columns={args.wide_columns} wide_rows={args.wide_rows} wide_seconds={seconds:.2f}"
        if args.wide_only:
            print(f"RESULT{wide}")
            return
        if args.file:
            path = args.file
            with path.open(encoding="utf-8") as handle:
                rows = sum(1 for _ in handle) - 1
        else:
            path = args.keep or Path(scratch) / "mmr-open-data-long.csv"
            started = time.perf_counter()
            rows = generate(
                path, indicators=args.indicators, months=args.months, first_fiscal_year=args.first_fiscal_year
            )
            print(
                f"generated {rows:,} rows, {path.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s"
            )
        # The previous run's 15,000 indicators are deleted in a process of its own: the ORM's cascade holds their
        # rows in memory (about 800 MB), which is not the import's peak.
        forget = (
            "from indicators.models import ImportBatch, Indicator; "
            'Indicator.objects.filter(external_id__startswith="B0").delete(); '
            f"ImportBatch.objects.filter(file_name={path.name!r}).delete()"
        )
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "-c", forget], check=True)
        started = time.perf_counter()
        call_command("import_indicators", str(path), "--progress")
        seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"RESULT rows={rows} seconds={seconds:.1f} rows_per_s={rows / seconds:.0f} peak_rss_mb={peak_mb:.0f}{wide}")


if __name__ == "__main__":
    main()
