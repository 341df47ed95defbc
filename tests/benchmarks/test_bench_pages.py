"""The page-weight benchmark, run small: it loads the demo data as ``make run`` does and measures each page it
names (a page that no longer answers 200 would make its figures meaningless)."""

import pytest

from benchmarks.bench_pages import load_demo, measure_pages, report

pytestmark = pytest.mark.django_db


def test_the_page_benchmark_measures_the_dashboard_the_queue_and_the_report(settings, capsys):
    settings.PERCOLATE_BLANK_AS_OF = "data"  # as the embedded mode the benchmark loads
    load_demo(migrate=False)
    figures = measure_pages(runs=2)
    assert [(f.name, f.status) for f in figures] == [("dashboard", 200), ("queue", 200), ("report", 200)]
    assert figures[1].path.startswith("/flags/?")  # the queue's default view, not its redirect
    assert all(len(f.times_ms) == 2 and f.queries > 0 for f in figures)
    report(figures)
    assert "RESULT dashboard_median_ms=" in capsys.readouterr().out
