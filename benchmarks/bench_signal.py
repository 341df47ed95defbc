"""Signal quality of the rules, measured like speed: how many real deteriorations they catch and how many clean
series they flag, on a labelled benchmark of its own (``signal_data.py``: monthly series in the NYC Open Data
long format plus annual ones, seasonal, trending and noisy, with 4-month values, restatements, zero baselines and
injected deteriorations), imported through the real importer and checked by the real check; then how many cases
the same rules open on the real FY2023 data.

    .venv/bin/python benchmarks/bench_signal.py                    # the seeded rules, on a scratch SQLite file
    .venv/bin/python benchmarks/bench_signal.py --rules first      # the first version's defaults, to compare
    DATABASE_URL=postgres://…/percolate_bench_signal .venv/bin/python benchmarks/bench_signal.py

The unit is a series of the file (an indicator, as NYC publishes it); Percolate imports a monthly one as three
series (its months, its fiscal years, its 4-month values). A deteriorated series counts as **caught** when one of
its Percolate series whose latest value shows the deterioration has an open performance case with an active
signal for a deteriorated period; a **clean** series is **flagged** when any of its Percolate series has an open
performance case, and red when one is red. ``red_precision`` is the share of series with a red case that really
deteriorated. The figures per Percolate series are printed too. On the real data: the open performance cases,
and the critical indicators at least 10 % worse than their numeric target that are not red (the target: none).

Targets (the trust issue): recall ≥ 0.90, clean_flagged ≤ 0.08, clean_red ≤ 0.02, cases_on_real_data ≤ 250,
critical_target_misses_not_red = 0. Prints tables and, last, one ``RESULT`` line. On PostgreSQL it empties the
indicator and case tables of the database it is given, so it refuses a database whose name lacks "bench"."""

import argparse
import io
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--rules", choices=["seeded", "first"], default="seeded", help="which rules to measure")
parser.add_argument("--seed", type=int, default=2026)
parser.add_argument("--monthly", type=int, default=480, help="monthly indicators (three series each)")
parser.add_argument("--annual", type=int, default=160, help="annual indicators")
parser.add_argument("--skip-real", action="store_true", help="leave out the real FY2023 data")
ARGS = parser.parse_args()

if "DATABASE_URL" not in os.environ:
    SCRATCH = Path(tempfile.mkdtemp(prefix="percolate-signal-")) / "bench.sqlite3"
    os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # the tables, not every import and task

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from benchmarks.signal_data import generate  # noqa: E402
from escalations.lifecycle import OPEN_STATUSES  # noqa: E402
from escalations.models import Event, Flag, FlagCategory, Notification, Signal  # noqa: E402
from indicators.detection.classify import add_months  # noqa: E402
from indicators.detection.rules import STEP_MONTHS  # noqa: E402
from indicators.models import (  # noqa: E402
    CheckRun,
    Direction,
    ImportBatch,
    Indicator,
    Measurement,
    MeasurementRevision,
    Rag,
    TargetKind,
    ThresholdRule,
)
from indicators.services import import_file  # noqa: E402

REAL_FILE = ROOT / "indicators" / "data" / "nyc-pmmr-fy2023-indicators.csv"

# The first version's defaults (issue 9's starting point): the figures "before".
FIRST_RULES = [
    # name, kind, yellow, red, params, critical factor
    ("Year-over-year slip", "year_over_year", 5, 10, {}, "0.5"),
    ("Target missed", "target", 0, 10, {}, "0.5"),
    ("Outside control limits", "control_limit", 2, 3, {"window": 24, "min_points": 8}, "0.5"),
    ("Sustained decline", "sustained", 3, 5, {}, "0.5"),
    ("Reporting gap", "stale", 0, 30, {"grace_days": 30}, "0.5"),
    ("Impossible value", "impossible_value", 0, 0, {}, "1"),
    ("Saw-tooth (cumulative reset)", "sawtooth", 3, 6, {"drop_pct": 50}, "1"),
]


def database() -> None:
    if connection.vendor == "postgresql" and "bench" not in connection.settings_dict["NAME"]:
        raise SystemExit("bench_signal.py empties the database it is given: use one whose name contains 'bench'")
    call_command("migrate", verbosity=0)
    reset()


def reset() -> None:
    """Forget every indicator, value, import, case, event and run (the rules and reference data stay)."""
    if connection.vendor == "postgresql":  # the audit trail refuses DELETE there; its owner may TRUNCATE
        # CASCADE empties every table that refers to an indicator, the rules among them (a rule may be scoped to
        # one): keep the others and put them back.
        rules = list(ThresholdRule.objects.filter(indicator__isnull=True).values())
        with connection.cursor() as cursor:
            cursor.execute(
                "TRUNCATE escalations_notification, escalations_event, escalations_signal, escalations_flag, "
                "indicators_checkshard, indicators_checkrun, indicators_measurementrevision, "
                "indicators_measurement, indicators_importbatch, indicators_indicator CASCADE"
            )
        ThresholdRule.objects.bulk_create(ThresholdRule(**row) for row in rules)
        return
    for model in (Notification, Event, Signal, Flag, CheckRun, MeasurementRevision, Measurement, ImportBatch):
        model.objects.all().delete()
    Indicator.objects.all().delete()


def use_first_rules() -> None:
    ThresholdRule.objects.update(active=False)
    for name, kind, yellow, red, params, factor in FIRST_RULES:
        ThresholdRule.objects.create(
            name=f"{name} (first defaults)",
            kind=kind,
            yellow=Decimal(yellow),
            red=Decimal(red),
            params=params,
            critical_factor=Decimal(factor),
        )


def load(name: str, content: bytes) -> None:
    import_file(file_name=name, content=content)


def check(as_of=None) -> CheckRun:
    out = io.StringIO()
    call_command("run_checks", *(["--as-of", as_of.isoformat()] if as_of else []), stdout=out)
    return CheckRun.objects.latest("id")


def open_performance_cases() -> dict[str, tuple[str, list]]:
    """external id → (case severity, active signals' (period, months per period))."""
    cases = {}
    flags = (
        Flag.objects.filter(status__in=OPEN_STATUSES, category=FlagCategory.PERFORMANCE)
        .select_related("indicator")
        .prefetch_related("signals")
    )
    for flag in flags:
        step = STEP_MONTHS.get(flag.indicator.frequency, 12)
        signals = [(s.period, step) for s in flag.signals.all() if s.cleared_at is None]
        cases[flag.indicator.external_id] = (flag.severity, signals)
    return cases


def caught(case, start) -> bool:
    """An active signal for a period that includes a month on or after the deterioration's start."""
    if case is None or start is None:
        return False
    return any(add_months(period, step) > start for period, step in case[1])


def generated_series(label) -> str:
    """The series of the file a Percolate series comes from: ``B1001-M`` and ``B1001-4M`` are ``B1001``'s."""
    return label.series.split("-")[0]


def measure_benchmark() -> dict:
    signal_set = generate(seed=ARGS.seed, monthly=ARGS.monthly, annual=ARGS.annual)
    began = time.monotonic()
    load("signal-benchmark.csv", signal_set.main)
    first = check(signal_set.as_of)
    load("signal-benchmark-restatements.csv", signal_set.restatements)
    second = check(signal_set.as_of)
    seconds = time.monotonic() - began
    cases = open_performance_cases()

    # Per Percolate series (a monthly series of the file is imported as three: months, fiscal years, 4 months).
    by_frequency: dict[str, Counter] = defaultdict(Counter)
    by_noise: dict[str, Counter] = defaultdict(Counter)
    # Per series of the file: caught when a deteriorated series of it has a case for a deteriorated period;
    # a clean one flagged when any of its series has an open case.
    files: dict[str, dict] = defaultdict(lambda: {"labels": [], "hit": False, "flagged": False, "red": False})
    for series, label in signal_set.labels.items():
        case = cases.get(series)
        entry = files[generated_series(label)]
        entry["labels"].append(label)
        entry["flagged"] |= case is not None
        entry["red"] |= case is not None and case[0] == "red"
        if label.status == "excluded":
            continue
        freq = by_frequency[label.frequency]
        if label.status == "dirty":
            hit = caught(case, label.start)
            entry["hit"] |= hit
            freq["dirty"] += 1
            freq["caught"] += hit
        else:
            freq["clean"] += 1
            freq["flagged"] += case is not None
            freq["red"] += case is not None and case[0] == "red"
            band = by_noise[noise_band(label.noise)]
            band["clean"] += 1
            band["flagged"] += case is not None
    by_kind: dict[str, Counter] = defaultdict(Counter)
    totals: Counter[str] = Counter()
    for entry in files.values():
        statuses = {label.status for label in entry["labels"]}
        if statuses == {"clean"}:
            totals["clean"] += 1
            totals["flagged"] += entry["flagged"]
            totals["red"] += entry["red"]
            totals["red_clean"] += entry["red"]
        elif "dirty" in statuses:
            kind = entry["labels"][0].kind
            frequency = "monthly" if any(label.frequency == "monthly" for label in entry["labels"]) else "annual"
            for counter in (by_kind[kind], by_kind["all"], by_kind[f"{frequency} series"]):
                counter["series"] += 1
                counter["caught"] += entry["hit"]
            totals["red_dirty"] += entry["red"]
    return {
        "series": by_kind["all"]["series"] + totals["clean"],
        "recall": by_kind["all"]["caught"] / by_kind["all"]["series"],
        "clean_flagged": totals["flagged"] / totals["clean"],
        "clean_red": totals["red"] / totals["clean"],
        "red_precision": totals["red_dirty"] / max(1, totals["red_dirty"] + totals["red_clean"]),
        "by_kind": by_kind,
        "by_frequency": by_frequency,
        "by_noise": by_noise,
        "seconds": seconds,
        "percolate_series": sum(1 for label in signal_set.labels.values() if label.status != "excluded"),
        "runs": (first, second),
    }


def noise_band(cv: float) -> str:
    for limit, name in ((0.02, "quiet"), (0.045, "moderate"), (0.08, "noisy"), (0.2, "very noisy")):
        if cv < limit:
            return name
    return "low counts"


def worse_than_target(indicator: Indicator, value: Decimal) -> Decimal | None:
    target = indicator.target
    if target is None or target == 0:
        return None
    change = (value - target) / abs(target)
    if indicator.desired_direction == Direction.UP:
        return -change
    if indicator.desired_direction == Direction.DOWN:
        return change
    return abs(change)


def measure_real_data() -> dict:
    reset()
    load(REAL_FILE.name, REAL_FILE.read_bytes())
    run = check()
    cases = Flag.objects.filter(status__in=OPEN_STATUSES, category=FlagCategory.PERFORMANCE)
    # Each indicator's last value in period order (a later row overwrites an earlier one).
    latest = dict(Measurement.objects.order_by("indicator_id", "period").values_list("indicator_id", "value"))
    misses = []
    critical = Indicator.objects.filter(critical=True, active=True, target_kind=TargetKind.NUMERIC)
    for indicator in critical:
        value = latest.get(indicator.pk)
        worse = worse_than_target(indicator, value) if value is not None else None
        if worse is not None and worse >= Decimal("0.10") and indicator.rag != Rag.RED:
            misses.append(indicator.external_id)
    return {
        "as_of": run.as_of,
        "cases": cases.count(),
        "red": cases.filter(severity="red").count(),
        "indicators": Indicator.objects.count(),
        "indicators_red": Indicator.objects.filter(rag=Rag.RED).count(),
        "indicators_yellow": Indicator.objects.filter(rag=Rag.YELLOW).count(),
        "data_quality": Flag.objects.filter(status__in=OPEN_STATUSES, category=FlagCategory.DATA_QUALITY).count(),
        "critical_targets": sum(
            1
            for i in critical
            if latest.get(i.pk) is not None and (worse_than_target(i, latest[i.pk]) or 0) >= Decimal("0.10")
        ),
        "critical_misses": misses,
    }


def main() -> None:
    database()
    if ARGS.rules == "first":
        use_first_rules()
    rules = ThresholdRule.objects.filter(active=True).order_by("kind", "name")
    print(f"rules ({ARGS.rules}), {connection.vendor}:")
    for rule in rules:
        print(f"  {rule.name:<44} {rule.kind:<16} yellow {rule.yellow:g} red {rule.red:g} {rule.params or ''}")
    bench = measure_benchmark()
    print(
        f"\nlabelled benchmark (seed {ARGS.seed}): {bench['series']} series of the file judged "
        f"({bench['percolate_series']} Percolate series), import and two checks {bench['seconds']:.1f} s"
    )
    print(f"\n{'deterioration':<17}{'series':>7}{'caught':>8}{'recall':>8}")
    for kind in ("shift", "drift", "sustained", "target", "monthly series", "annual series", "all"):
        c = bench["by_kind"][kind]
        print(f"{kind:<17}{c['series']:>7}{c['caught']:>8}{c['caught'] / max(1, c['series']):>8.2f}")
    print("\nper Percolate series (each monthly series of the file is three: months, fiscal years, 4 months)")
    print(f"{'frequency':<14}{'clean':>8}{'flagged':>9}{'red':>6}{'dirty':>8}{'caught':>8}{'recall':>8}")
    for frequency, c in sorted(bench["by_frequency"].items()):
        clean, dirty = max(1, c["clean"]), max(1, c["dirty"])
        print(
            f"{frequency:<14}{c['clean']:>8}{c['flagged'] / clean:>9.3f}{c['red'] / clean:>6.3f}"
            f"{c['dirty']:>8}{c['caught']:>8}{c['caught'] / dirty:>8.2f}"
        )
    print(f"\n{'noise (clean)':<14}{'series':>8}{'flagged':>9}")
    for band in ("quiet", "moderate", "noisy", "very noisy", "low counts"):
        c = bench["by_noise"].get(band, Counter())
        print(f"{band:<14}{c['clean']:>8}{c['flagged'] / max(1, c['clean']):>9.3f}")
    real: dict[str, Any] = {"cases": -1, "critical_misses": []}
    if not ARGS.skip_real:
        real = measure_real_data()
        print(
            f"\nreal FY2023 data ({real['indicators']} indicators, checked as of {real['as_of']}): "
            f"{real['cases']} open performance cases ({real['red']} red), {real['data_quality']} data-quality; "
            f"indicators red {real['indicators_red']}, yellow {real['indicators_yellow']}; critical indicators "
            f"≥ 10 % worse than target: {real['critical_targets']}, of them not red: {len(real['critical_misses'])}"
            + (f" {real['critical_misses']}" if real["critical_misses"] else "")
        )
    print(
        f"\nRESULT series={bench['series']} recall={bench['recall']:.3f} clean_flagged={bench['clean_flagged']:.3f} "
        f"clean_red={bench['clean_red']:.3f} red_precision={bench['red_precision']:.3f} "
        f"cases_on_real_data={real['cases']} critical_target_misses_not_red={len(real['critical_misses'])}"
    )


if __name__ == "__main__":
    main()
