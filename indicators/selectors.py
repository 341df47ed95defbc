"""Reads of the reference data and the operations lists (rules, check runs, imports), for the pages and the
API alike. Nothing here depends on who is asking: the callers check the role, and these tables hold no
agency-scoped data."""

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchVector, SearchVectorExact
from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from .detection.classify import add_months
from .detection.rules import STEP_MONTHS
from .models import (
    Agency,
    CheckRun,
    ImportBatch,
    ImportUpload,
    ImportUploadStatus,
    Indicator,
    Measurement,
    Portfolio,
    ThresholdRule,
)


def portfolios_listed() -> QuerySet[Portfolio]:
    """Portfolios with their agencies, by code (the API's list)."""
    return Portfolio.objects.prefetch_related("agencies").order_by("code")


def agencies_listed() -> QuerySet[Agency]:
    """Agencies with their portfolio and aliases, by code (the API's list)."""
    return Agency.objects.select_related("portfolio").prefetch_related("aliases").order_by("code")


def indicator_by_id(pk: int) -> Indicator | None:
    """One indicator by its id, with its agency; None when there is none (everyone reads indicators)."""
    return Indicator.objects.select_related("agency").filter(pk=pk).first()


# The expression of the GIN index that migration 0011 creates on PostgreSQL: a query must repeat it exactly for
# the index to serve it.
SEARCH_VECTOR = SearchVector("name", "external_id", "service", config="english")
SEARCH_MAX_CHARS = 200
SEARCH_MAX_WORDS = 10
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class _Named:
    """The agencies one search word names: by their code (the word is it) and by their name (the word begins a
    word of it)."""

    by_code: frozenset[int]
    by_name: frozenset[int]


def _agencies_named(words: list[str]) -> list[_Named]:
    """What each of ``words`` names among the agencies. The agencies (a few dozen) are read once, so that the
    search's query compares ``agency_id`` to constants and needs no join."""
    agencies = [
        (pk, code.casefold(), _WORD.findall(name.casefold()))
        for pk, code, name in Agency.objects.values_list("pk", "code", "name")
    ]
    named = []
    for word in (word.casefold() for word in words):
        by_code = frozenset(pk for pk, code, _ in agencies if code == word)
        by_name = frozenset(pk for pk, _, name in agencies if any(part.startswith(word) for part in name))
        named.append(_Named(by_code, by_name))
    return named


def _stop_words(words: list[str]) -> set[str]:
    """Those of ``words`` that PostgreSQL's English full-text configuration drops as stop words ("of", "the"):
    one query, none without words."""
    if not words:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT word FROM unnest(%s::text[]) AS word WHERE numnode(to_tsquery('english', word || ':*')) = 0",
            [words],
        )
        return {word for (word,) in cursor.fetchall()}


def indicators_matching(indicators: QuerySet[Indicator], text: str) -> QuerySet[Indicator]:
    """The indicators of ``indicators`` that ``text`` finds: every word matches somewhere — it begins a word of
    the name, MMR ID or service (so a half-typed word already finds), or it is the agency's code or begins a
    word of the agency's name — so "DOT pothole" finds the Department of Transportation's pothole indicators.
    The whole text as the MMR ID, an agency's code or part of an agency's name finds too. The search box, the
    search page, the dashboard's and the API's ``q`` all search here.

    On PostgreSQL the words are a full-text prefix query over the GIN index (English stemming: "permits"
    finds "permitted"); elsewhere (SQLite) each word is a substring of one of the three fields. The words that
    name no agency are one full-text query (one scan of the index); a word that names agencies is that word's
    full-text query or those agencies."""
    text = text.replace("\x00", "").strip()[:SEARCH_MAX_CHARS]
    words = _WORD.findall(text)[:SEARCH_MAX_WORDS]
    if not words:
        return indicators.none()
    # The agencies are read first and the MMR ID compared as stored, so that on PostgreSQL each branch of the
    # ORs has its own index (GIN, external_id's unique index, agency_id) and none reads the table.
    agencies = list(Agency.objects.filter(Q(code__iexact=text) | Q(name__icontains=text)).values_list("pk", flat=True))
    exact = Q(external_id=text) | Q(agency_id__in=agencies)
    postgresql = connection.vendor == "postgresql"

    def in_fields(some: list[str]) -> Q:
        if postgresql:
            query = SearchQuery(" & ".join(f"{word}:*" for word in some), search_type="raw", config="english")
            return Q(SearchVectorExact(SEARCH_VECTOR, query))
        every = Q()
        for word in some:
            every &= Q(name__icontains=word) | Q(external_id__icontains=word) | Q(service__icontains=word)
        return every

    named = _agencies_named(words)
    naming = [word for word, agencies_named in zip(words, named, strict=True) if agencies_named.by_name]
    # A stop word is dropped by the full-text query, where it finds everything: it must not narrow "percent of
    # trips" to the agencies named "… of …". It still counts as an agency's code.
    stop = _stop_words(naming) if postgresql else set()
    every_word = Q()
    plain = []
    for word, agencies_named in zip(words, named, strict=True):
        if word in stop:
            if agencies_named.by_code:
                every_word &= Q(agency_id__in=sorted(agencies_named.by_code))
        elif agencies_named.by_code or agencies_named.by_name:
            every_word &= in_fields([word]) | Q(agency_id__in=sorted(agencies_named.by_code | agencies_named.by_name))
        else:
            plain.append(word)
    if plain:
        every_word &= in_fields(plain)
    return indicators.filter(every_word | exact)


def check_runs() -> QuerySet[CheckRun]:
    """Every check run, newest first, with who asked for it."""
    return CheckRun.objects.select_related("requested_by").order_by("-id")


def import_batches() -> QuerySet[ImportBatch]:
    """Every imported file, newest first, with who imported it."""
    return ImportBatch.objects.select_related("imported_by").order_by("-imported_at", "-id")


def rules_all() -> QuerySet[ThresholdRule]:
    return ThresholdRule.objects.select_related("agency", "indicator").order_by("-active", "kind", "name")


def indicator_by_external_id(external_id: str) -> Indicator | None:
    return Indicator.objects.filter(external_id=external_id).first()


def check_runs_recent(limit: int = 100) -> list[CheckRun]:
    return list(check_runs()[:limit])


def import_upload_progress_key(upload_id: int) -> str:
    """The cache key of a running background import's progress (its rows are written inside one transaction
    that no other connection sees until it commits, so the progress cannot live on its row)."""
    return f"import-upload-progress:{upload_id}"


def import_upload_progress(upload: ImportUpload) -> tuple[int, int]:
    """(rows read, about how many rows) of a background import: from the cache while it runs, else its row."""
    if upload.status == ImportUploadStatus.RUNNING:
        state = cache.get(import_upload_progress_key(upload.pk))
        if state:
            return state["done"], max(state["total"], upload.rows_total)
    return upload.rows_done, upload.rows_total


def import_uploads() -> QuerySet[ImportUpload]:
    """Every background import, newest first, with who uploaded it (without the file's bytes)."""
    return ImportUpload.objects.select_related("uploaded_by", "batch").defer("content").order_by("-uploaded_at", "-id")


def import_batches_recent(limit: int = 20) -> list[ImportBatch]:
    return list(import_batches()[:limit])


@dataclass(frozen=True)
class DefaultAsOf:
    """The date a check started without one is for, and why (the run-now form says it)."""

    date: dt.date
    why: str


def check_default_as_of() -> DefaultAsOf:
    """Today; with ``PERCOLATE_BLANK_AS_OF = "data"`` (the embedded demo), the end of the latest period with a
    value among the active indicators, but never later than today. Two queries of a row per frequency: the
    importer keeps each indicator's latest period (``reported_through``); values written otherwise are read."""
    today = timezone.localdate()
    if settings.PERCOLATE_BLANK_AS_OF != "data":
        return DefaultAsOf(today, "today")
    kept = (
        Indicator.objects.filter(active=True, reported_through__isnull=False)
        .order_by()
        .values_list("frequency")
        .annotate(latest=Max("reported_through"))
    )
    unkept = (
        Measurement.objects.filter(indicator__active=True, indicator__reported_through__isnull=True)
        .order_by()
        .values_list("indicator__frequency")
        .annotate(latest=Max("period"))
    )
    ends = [
        add_months(latest, STEP_MONTHS.get(frequency, 12)) - dt.timedelta(days=1)
        for frequency, latest in [*kept, *unkept]
    ]
    if not ends:
        return DefaultAsOf(today, "today (there is no data yet)")
    end = min(max(ends), today)
    return DefaultAsOf(end, "the date the data runs through (the end of the latest period with a value)")
