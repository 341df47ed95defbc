"""A large import from the import page, in a real browser at 390 and 1,366 px: the upload goes to the import's
own page, which shows it done with its report (imported eagerly after the upload, as in the embedded mode), or
failed with the line and column of each error; neither page scrolls sideways and axe-core finds nothing."""

import pytest

from benchmarks.bench_import import generate
from indicators.models import ImportUpload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (390, 1366)


def scrolls_sideways(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth")


def test_a_large_import_goes_to_its_own_page_and_shows_its_report(session, demo, settings, tmp_path):
    settings.PERCOLATE_IMPORT_BACKGROUND_BYTES = 10 * 1024  # these files count as large
    lead = session(bypass_csp=True)  # to inject axe-core
    lead.sign_in("lead")
    page = lead.page
    for n, width in enumerate(WIDTHS):
        page.set_viewport_size({"width": width, "height": 900})
        good = tmp_path / f"long-{width}.csv"
        rows = generate(good, indicators=20, months=12, first_fiscal_year=2018 + n, seed=n)
        lines = good.read_text().splitlines(keepends=True)
        bad = tmp_path / f"broken-{width}.csv"
        bad.write_text(lines[0] + lines[1].replace(",Monthly,", ",Sometimes,") + "".join(lines[2:]))

        lead.go("/ops/imports/")
        page.set_input_files("#id_file", str(good))
        page.click("form.narrow-form button[type=submit]")
        page.wait_for_url("**/ops/imports/background/**")
        status = page.locator("[data-testid=import-status]")
        assert status.inner_text().startswith("Done"), status.inner_text()
        assert f"{rows:,} rows read" in status.inner_text()
        report = page.locator("[data-testid=import-report]").inner_text()
        assert "Imported" in report and "Values added" in report, report
        assert not scrolls_sideways(page), width
        assert lead.axe_violations() == []

        lead.go("/ops/imports/")
        page.set_input_files("#id_file", str(bad))
        page.click("form.narrow-form button[type=submit]")
        page.wait_for_url("**/ops/imports/background/**")
        assert page.locator("[data-testid=import-status]").inner_text().startswith("Failed")
        errors = page.locator("[data-testid=import-report] tbody tr").first.inner_text()
        assert errors.split()[0] == "2" and "frequency" in errors.lower(), errors
        assert not scrolls_sideways(page), width
        assert lead.axe_violations() == []

        lead.go("/ops/imports/")
        listed = page.locator("section[aria-labelledby=uploads-heading]").inner_text()
        assert good.name in listed and bad.name in listed and "Failed" in listed
        assert not scrolls_sideways(page), width
    assert ImportUpload.objects.filter(status="done").count() == 2
