"""Applying parsed records to the database in batches, inside the import's transaction: agencies and
indicators upserted, measurements added, restated (the old value kept as a revision) or left unchanged, and
the import-time warnings that need the stored history (restatement, percentage over 100, a 10× jump).

Memory stays flat however large the file: only the current batch of records, one row per indicator touched
and a few numbers of history per indicator are held."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, TypeVar

from django.db import connection
from django.db.models import Count, Max, Min
from django.db.models.functions import Abs
from django.utils import timezone

from core.audit import shown

from ..identity import AgencyIndex, normal_name
from ..importers.base import IndicatorRecord, MeasurementRecord, Report, named_agency
from ..importers.values import period_start

if TYPE_CHECKING:
    from django.contrib.auth.models import User

from ..models import UNASSIGNED_AGENCY_CODE, Agency, ImportBatch, Indicator, Measurement, MeasurementRevision
from .series import indicator_series_refresh

INDICATOR_FIELDS = (
    "name",
    "service",
    "goal",
    "description",
    "desired_direction",
    "critical",
    "target",
    "target_kind",
    "measurement_type",
    "unit",
    "frequency",
    "active",
)
COUNTS = (
    "indicators_created",
    "indicators_updated",
    "indicators_extended",
    "measurements_created",
    "measurements_restated",
    "measurements_unchanged",
)
# What the import report calls each count.
COUNT_LABELS = {
    "indicators_created": "Indicators created",
    "indicators_updated": "Indicators updated",
    "indicators_extended": "Existing indicators extended",
    "measurements_created": "Values added",
    "measurements_restated": "Values restated",
    "measurements_unchanged": "Values unchanged",
}
# The import's summary in words, count by count (``import_summary``).
_SUMMARY = (
    ("indicators_created", "created {n} indicator{s}"),
    ("indicators_extended", "extended {n} existing indicator{s}"),
    ("indicators_updated", "updated {n} indicator{s}"),
    ("measurements_created", "added {n} value{s}"),
    ("measurements_restated", "restated {n} value{s}"),
    ("measurements_unchanged", "left {n} value{s} unchanged"),
)
BATCH_ROWS = 5000
# How many restated values and changed indicators the import's audit event names one by one (the counts are
# always complete; the batch's revisions keep every restated value).
AUDIT_LISTED = 100
# Keeps every IN (…) list under SQLite's limit on query parameters.
_IN_CHUNK = 900
# A value more than JUMP times the largest (or less than 1/JUMP of the smallest) of at least JUMP_HISTORY earlier
# values of its series is most often a unit error: thousands typed in full, a share typed as a fraction.
JUMP = 10
JUMP_HISTORY = 3
_HUNDRED = Decimal(100)
T = TypeVar("T")


def import_summary(counts: dict[str, int]) -> str:
    """What an import did, in words: "created 8 indicators, extended 2 existing indicators, added 40 values"
    (counts of zero left out; "nothing changed" when all are)."""
    parts = [
        text.format(n=f"{counts[name]:,}", s="" if counts[name] == 1 else "s")
        for name, text in _SUMMARY
        if counts.get(name)
    ]
    return ", ".join(parts) if parts else "nothing changed"


def _chunks(items: list[T], size: int = _IN_CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _code(record: IndicatorRecord) -> str:
    """The agency code a record gives ("" for none: New York's files write a missing agency as NA)."""
    return named_agency(record.agency_code)


def _shown(value: object) -> object:
    """A value as the audit trail shows it: an agency by its code."""
    return value.code if isinstance(value, Agency) else shown(value)


@dataclass(slots=True)
class _History:
    """Smallest and largest absolute non-zero value of a series, and how many there are."""

    low: Decimal | None = None
    high: Decimal | None = None
    count: int = 0

    def add(self, value: Decimal) -> None:
        if value:
            magnitude = abs(value)
            self.low = magnitude if self.low is None else min(self.low, magnitude)
            self.high = magnitude if self.high is None else max(self.high, magnitude)
            self.count += 1


class ImportWriter:
    """Receives records in file order (an indicator's record always before its measurements), writes them in
    batches of ``BATCH_ROWS`` and counts what changed. Not safe to share between imports."""

    def __init__(self, *, batch: ImportBatch, user: User | None, report: Report):
        self.batch, self.user, self.report = batch, user, report
        self.now = timezone.now()
        self.indicators: dict[str, Indicator] = {}  # every indicator this import touched, by external id
        self.created_ids: set[int] = set()
        self.updated_ids: set[int] = set()
        self.changed_ids: set[int] = set()  # new or restated data: re-evaluated by the next check
        self.pending_indicators: dict[str, IndicatorRecord] = {}
        self.pending_measurements: list[MeasurementRecord] = []
        self.parents: dict[str, tuple[str, int]] = {}
        self.history: dict[int, _History] = {}
        self.counts = dict.fromkeys(("measurements_created", "measurements_restated", "measurements_unchanged"), 0)
        # For the audit event: the first AUDIT_LISTED restated values and changed indicators, old and new.
        self.restated: list[dict[str, object]] = []
        self.redefined: list[dict[str, object]] = []
        self._agencies: AgencyIndex | None = None
        self._warned: set[str] = set()  # agency warnings already given (once per import each)
        self._instances: dict[int, Indicator] = {}  # one object per indicator, however it was found
        self._by_name: dict[tuple[int, bool], dict[tuple[str, str], list[Indicator]]] = {}
        self.extended_ids: set[int] = set()  # existing indicators found by name (or through a merge)
        self.failed_ids: set[str] = set()  # records whose indicator could not be told (reported)

    # -- intake ----------------------------------------------------------------------------------------------
    def add(self, record: IndicatorRecord | MeasurementRecord) -> bool:
        """Queue one record; returns True when a batch was written."""
        if isinstance(record, MeasurementRecord):
            self.pending_measurements.append(record)
            if len(self.pending_measurements) >= BATCH_ROWS:
                self.flush()
                return True
        else:
            if record.external_id in self.pending_indicators:
                self._write_indicators()  # keep the order: the earlier version's measurements may be pending
            self.pending_indicators[record.external_id] = record
        return False

    def flush(self) -> None:
        self._write_indicators()
        self._write_measurements()

    def finish(self) -> dict[str, int]:
        """Write what is pending, link geographic breakouts to their parents, mark changed indicators for
        re-evaluation; returns the counts."""
        self.flush()
        self._link_parents()
        # A changed target, direction or criticality changes what the rules conclude: re-evaluate those too.
        self.changed_ids |= self.updated_ids
        for ids in _chunks(sorted(self.changed_ids)):
            Indicator.objects.filter(id__in=ids).update(data_changed_at=self.now)
        indicator_series_refresh(self.changed_ids)
        return {
            "indicators_created": len(self.created_ids),
            "indicators_updated": len(self.updated_ids - self.created_ids - self.extended_ids),
            "indicators_extended": len(self.extended_ids),
            **self.counts,
        }

    # -- agencies --------------------------------------------------------------------------------------------
    def _index(self) -> AgencyIndex:
        if self._agencies is None:
            self._agencies = AgencyIndex.load()
        return self._agencies

    def _named_agency(self, record: IndicatorRecord) -> Agency | None:
        """The known agency a record names (``AgencyIndex.match``: budget number, code, then name or alias);
        None when it names none or none that is known. A budget number that disagrees with the name is warned
        about once per import."""
        match = self._index().match(number=record.agency_number, code=_code(record), name=record.agency_name)
        if match.note and match.note not in self._warned:
            self._warned.add(match.note)
            self.report.warn(record.line, None, match.note)
        return match.agency

    def _new_agency(self, record: IndicatorRecord) -> Agency:
        """The agency for a new indicator: the one the record names, UNASSIGNED when it names none, or a new
        agency (without a portfolio) when the name is unknown — with a warning listing the near matches, so
        that a misspelling becomes an alias rather than a second agency."""
        index = self._index()
        agency = self._named_agency(record)
        if agency is not None:
            return agency
        if not (_code(record) or record.agency_name):
            unassigned = index.unassigned()
            if unassigned is None:
                unassigned, _ = Agency.objects.get_or_create(
                    code=UNASSIGNED_AGENCY_CODE, defaults={"name": "Unassigned"}
                )
                index.add(unassigned)
            return unassigned
        name = (record.agency_name or _code(record))[:200]
        near = index.near(_code(record), record.agency_name, number=record.agency_number)
        hint = f' (near matches: {"; ".join(near)}; if it is one of them, add "{name}" to its aliases)' if near else ""
        self.report.warn(record.line, None, f'agency "{name}" was not known; created without a portfolio{hint}')
        agency = Agency.objects.create(code=self._new_code(_code(record) or name), name=name,
                                       budget_number=record.agency_number[:16])  # fmt: skip
        index.add(agency)
        return agency

    def _new_code(self, name: str) -> str:
        words = re.findall(r"[A-Za-z0-9]+", name)
        base = name.upper() if len(name) <= 12 and len(words) <= 1 else "".join(w[0] for w in words).upper()
        base = re.sub(r"[^A-Z0-9-]", "", base)[:12] or "AGENCY"
        code, n = base, 2
        while self._index().named(code) or Agency.objects.filter(code__iexact=code).exists():
            code, n = f"{base}{n}", n + 1
        return code

    def _kept_agency(self, record: IndicatorRecord, indicator: Indicator) -> Agency:
        """The agency of an indicator that exists: its own. An import never moves an indicator to another
        agency (renaming an agency, or a file spelling it differently, must not take indicators from its
        liaisons); the one exception is an indicator still in UNASSIGNED, which goes to the known agency a
        file names. A file naming another agency is warned about, once per pair of agencies."""
        current = indicator.agency
        if not (_code(record) or record.agency_name):
            return current
        named = self._named_agency(record)
        if named is None or named.pk == current.pk:
            if named is None:
                self._warn_kept(record, current, f'agency "{record.agency_name or _code(record)}" is not known')
            return current
        if current.code == UNASSIGNED_AGENCY_CODE:
            return named
        self._warn_kept(record, current, f"the file names {named.name} ({named.code})")
        return current

    def _warn_kept(self, record: IndicatorRecord, current: Agency, why: str) -> None:
        key = f"{why}/{current.pk}"
        if key not in self._warned:
            self._warned.add(key)
            self.report.warn(
                record.line,
                None,
                f"{why}; {record.external_id} and the other existing indicators of {current.name} ({current.code}) "
                "in this file stay with it (an import never moves an indicator to another agency)",
            )

    # -- indicators ------------------------------------------------------------------------------------------
    def _load(self, external_ids: Iterable[str]) -> None:
        """The indicators with these ids, by id; an indicator merged into another stands for that one."""
        wanted = [external_id for external_id in external_ids if external_id not in self.indicators]
        for ids in _chunks(wanted):
            rows = Indicator.objects.filter(external_id__in=ids).select_related("agency", "merged_into__agency")
            for indicator in rows:
                survivor = indicator.merged_into or indicator
                self.indicators[indicator.external_id] = self._instances.setdefault(survivor.pk, survivor)

    def _same_named(self, agency: Agency, derived_only: bool) -> dict[tuple[str, str], list[Indicator]]:
        """The agency's indicators by (normal name, frequency): all of them, or only those whose id no file
        gave (``id_from_source`` false). One query per agency and kind per import."""
        key = (agency.pk, derived_only)
        if key not in self._by_name:
            found: dict[tuple[str, str], list[Indicator]] = {}
            # A geographic breakout is never the indicator of a row that names only an agency and a name.
            rows = Indicator.objects.filter(agency=agency, merged_into__isnull=True, parent__isnull=True)
            rows = rows.select_related("agency")
            if derived_only:
                rows = rows.filter(id_from_source=False)
            for indicator in rows.order_by("id"):
                indicator = self._instances.setdefault(indicator.pk, indicator)
                found.setdefault((normal_name(indicator.name), indicator.frequency), []).append(indicator)
            self._by_name[key] = found
        return self._by_name[key]

    def _identify(self, record: IndicatorRecord) -> tuple[Indicator | None, bool]:
        """(the existing indicator a record not found by its id is, whether the match is ambiguous).

        A record without an ID in the file (``id_from_source`` false: an MMR wide extract's) is the indicator
        of its agency with the same normal name and frequency, whatever its id; a record with an ID is the one
        such indicator whose id no file gave, which then takes the record's ID. Two or more candidates are an
        error listing them; none, a new indicator."""
        agency = self._named_agency(record)
        if agency is None or record.parent_external_id:  # a breakout is known by its own id only
            return None, False
        candidates = self._same_named(agency, derived_only=record.id_from_source).get(
            (normal_name(record.name), record.frequency), []
        )
        if len(candidates) > 1:
            listed = "; ".join(f'{c.external_id} "{c.name}"' for c in candidates[:10])
            self.report.error(
                record.line,
                None,
                f'"{record.name}" of {agency.name} matches {len(candidates)} existing indicators: {listed}. '
                "Merge them into one (an ops lead, on the indicator's page or with manage.py merge_indicators) "
                "and import again",
            )
            return None, True
        return (candidates[0], False) if candidates else (None, False)

    def _resolve(self, record: IndicatorRecord) -> tuple[Indicator | None, dict[str, object] | None]:
        """(the indicator a record is — None: a new one —, the fields the record gives it). The fields are None
        when the record only adds values: found by name (a file without IDs extends an indicator; what the
        indicator is stays as its own source says), or through a merge, or when it is ambiguous (reported)."""
        values: dict[str, object] = {name: getattr(record, name) for name in INDICATOR_FIELDS}
        values["id_from_source"] = record.id_from_source
        indicator = self.indicators.get(record.external_id)
        if indicator is not None:
            if indicator.external_id != record.external_id:  # merged into another, or found by name before
                self.extended_ids.add(indicator.pk)
                return indicator, None
            return indicator, values
        indicator, ambiguous = self._identify(record)
        if ambiguous:
            self.failed_ids.add(record.external_id)
            return None, None
        if indicator is None:
            return None, values
        self.extended_ids.add(indicator.pk)
        self.indicators[record.external_id] = indicator
        if not record.id_from_source:
            return indicator, None
        # The file gives an indicator known only by its derived id its ID: the same series from now on.
        self._by_name[(indicator.agency_id, True)][(normal_name(indicator.name), indicator.frequency)].remove(indicator)
        values["external_id"] = record.external_id
        return indicator, values

    def _write_indicators(self) -> None:
        if not self.pending_indicators:
            return
        records, self.pending_indicators = list(self.pending_indicators.values()), {}
        self._load([key for record in records for key in (record.external_id, record.companion_of) if key])
        created, updated = [], []
        for record in records:
            if record.parent_external_id:
                self.parents[record.external_id] = (record.parent_external_id, record.line)
            indicator, values = self._resolve(record)
            if values is None:
                continue
            self._keep_unstated(record, indicator, values)
            if indicator is None:
                indicator = Indicator(external_id=record.external_id, agency=self._new_agency(record), **values)
                self.indicators[record.external_id] = indicator
                created.append(indicator)
                continue
            values["agency"] = self._kept_agency(record, indicator)
            if any(getattr(indicator, name) != value for name, value in values.items()):
                self._note_redefined(indicator, values)
                for name, value in values.items():
                    setattr(indicator, name, value)
                updated.append(indicator)
        self._insert_indicators(created)
        updated = list({indicator.pk: indicator for indicator in updated}.values())
        Indicator.objects.bulk_update(
            updated, [*INDICATOR_FIELDS, "agency", "external_id", "id_from_source"], batch_size=1000
        )
        self.updated_ids.update(indicator.pk for indicator in updated)

    def _insert_indicators(self, created: list[Indicator]) -> None:
        Indicator.objects.bulk_create(created, batch_size=1000)
        if created and created[0].pk is None:  # backends that do not return primary keys from bulk inserts
            for ids in _chunks([indicator.external_id for indicator in created]):
                pks = dict(Indicator.objects.filter(external_id__in=ids).values_list("external_id", "pk"))
                for external_id in ids:
                    self.indicators[external_id].pk = pks[external_id]
        self.created_ids.update(indicator.pk for indicator in created)

    def _keep_unstated(self, record: IndicatorRecord, indicator: Indicator | None, values: dict[str, object]) -> None:
        """What the file has no column for: an existing indicator keeps its own, a new companion series takes
        its indicator's; a new indicator keeps the format's default, with the parser's warning if it has one."""
        if not record.unstated:
            return
        known = indicator or self.indicators.get(record.companion_of)
        if known is None:
            if record.warning_if_new:
                self.report.warn(record.line, None, record.warning_if_new)
            return
        for name in record.unstated:
            values[name] = getattr(known, name)

    def _note_redefined(self, indicator: Indicator, values: dict[str, object]) -> None:
        if len(self.redefined) >= AUDIT_LISTED:
            return
        changes = {}
        for name, value in values.items():
            old = getattr(indicator, name)
            if old != value:
                changes[name] = {"old": _shown(old), "new": _shown(value)}
        self.redefined.append({"indicator": indicator.pk, "external_id": indicator.external_id, "changes": changes})

    def _link_parents(self) -> None:
        self._load(parent for parent, _line in self.parents.values())
        linked = []
        for external_id, (parent_id, line) in self.parents.items():
            child, parent = self.indicators[external_id], self.indicators.get(parent_id)
            if parent is None:
                self.report.warn(line, "parentid", f'parent indicator "{parent_id}" is not known; not linked')
            elif child.parent_id != parent.pk:
                child.parent_id = parent.pk
                linked.append(child)
        Indicator.objects.bulk_update(linked, ["parent"], batch_size=1000)

    # -- measurements ----------------------------------------------------------------------------------------
    def _write_measurements(self) -> None:
        """Write the pending values: new ones inserted, changed ones updated (a changed value keeps the old one
        as a revision), equal ones counted as unchanged."""
        records, self.pending_measurements = self.pending_measurements, []
        keyed = self._keyed(records)
        if not keyed:
            return
        self._load_history({indicator.pk for _, indicator, _ in keyed})
        stored = self._stored(keyed)
        seen: dict[tuple[int, dt.date], int] = {}
        new, restated, revisions = [], [], []
        for record, indicator, period in keyed:
            current = stored.get((indicator.pk, period))
            if self._repeated(record, (indicator.pk, period), current, seen):
                continue
            self._check_value(record, indicator)
            if current is None:
                new.append((indicator.pk, period, record.value, record.preliminary))
                self.changed_ids.add(indicator.pk)
            elif current.value != record.value or current.preliminary != record.preliminary:
                if revision := self._restate(current, record, indicator, period):
                    revisions.append(revision)
                restated.append(current)
            else:
                self.counts["measurements_unchanged"] += 1
        self._insert(new)
        Measurement.objects.bulk_update(restated, ["value", "preliminary", "batch", "updated_at"], batch_size=1000)
        MeasurementRevision.objects.bulk_create(revisions, batch_size=2000)
        self.counts["measurements_created"] += len(new)
        self.counts["measurements_restated"] += len(revisions)

    def _keyed(self, records: list[MeasurementRecord]) -> list[tuple[MeasurementRecord, Indicator, dt.date]]:
        """Each value with its indicator and the start of its period. A value of an unknown indicator, or one
        naming a whole fiscal year for a monthly or quarterly indicator, is reported and left out."""
        if not records:
            return []
        self._load({record.external_id for record in records})
        keyed = []
        for record in records:
            indicator = self.indicators.get(record.external_id)
            if record.external_id in self.failed_ids:
                continue  # its indicator's row is the error
            if indicator is None:
                self.report.error(record.line, "indicator", f'no indicator has the id "{record.external_id}"')
            elif record.whole_year and indicator.frequency in ("monthly", "quarterly"):
                message = f"names a whole fiscal year, but {record.external_id} is {indicator.frequency}"
                self.report.error(record.line, "period", message)
            else:
                if indicator.external_id != record.external_id:  # found by name, or merged into this one
                    self.extended_ids.add(indicator.pk)
                keyed.append((record, indicator, period_start(record.period, indicator.frequency)))
        return keyed

    def _repeated(
        self,
        record: MeasurementRecord,
        key: tuple[int, dt.date],
        current: Measurement | None,
        seen: dict[tuple[int, dt.date], int],
    ) -> bool:
        """Whether the file gave this indicator and period a value on an earlier line (reported): among the
        values written together with this one (``seen``), or in an earlier write of this import (the stored value
        already belongs to its ``ImportBatch``)."""
        if key in seen or (current is not None and current.batch_id == self.batch.pk):
            earlier = f"on line {seen[key]}" if key in seen else "earlier in this file"
            self.report.error(
                record.line, record.column, f"{record.external_id} already has a value for {key[1]} {earlier}"
            )
            return True
        seen[key] = record.line
        return False

    def _restate(
        self, current: Measurement, record: MeasurementRecord, indicator: Indicator, period: dt.date
    ) -> MeasurementRevision | None:
        """Give the stored measurement the file's value and preliminary flag. A changed value is a restatement:
        the old value is kept as a revision (returned), warned about, and the indicator is marked for
        re-evaluation; a changed flag alone is not."""
        revision = None
        if current.value != record.value:
            revision = MeasurementRevision(
                measurement=current,
                old_value=current.value,
                new_value=record.value,
                old_preliminary=current.preliminary,
                batch=self.batch,
                changed_by=self.user,
            )
            if len(self.restated) < AUDIT_LISTED:
                self.restated.append(
                    {
                        "indicator": indicator.pk,
                        "external_id": indicator.external_id,
                        "period": period,
                        "old": shown(current.value),
                        "new": shown(record.value),
                    }
                )
            self.report.warn(
                record.line,
                record.column,
                f"restated: {indicator.external_id} for the period starting {period} was "
                f"{current.value.normalize():f}, now {record.value.normalize():f}",
            )
            self.changed_ids.add(indicator.pk)
        current.value, current.preliminary, current.batch, current.updated_at = (
            record.value,
            record.preliminary,
            self.batch,
            self.now,
        )
        return revision

    def _insert(self, rows: list[tuple[int, dt.date, Decimal, bool]]) -> None:
        """Insert new measurements given as (indicator id, period, value, preliminary). On PostgreSQL through
        COPY: building a model instance per value and compiling the INSERT cost more than the database's work,
        and a 770,000-row file must import in well under two minutes."""
        if not rows:
            return
        if connection.vendor != "postgresql":
            Measurement.objects.bulk_create(
                [
                    Measurement(indicator_id=pk, period=period, value=value, preliminary=preliminary, batch=self.batch)
                    for pk, period, value, preliminary in rows
                ],
                batch_size=2000,
            )
            return
        meta = Measurement._meta
        column_of = {field.name: field.column for field in meta.concrete_fields}
        columns = ", ".join(
            connection.ops.quote_name(column_of[name])
            for name in ("indicator", "period", "value", "preliminary", "batch", "updated_at")
        )
        table = connection.ops.quote_name(meta.db_table)
        batch_id, now = self.batch.pk, self.now
        with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for pk, period, value, preliminary in rows:
                copy.write_row((pk, period, value, preliminary, batch_id, now))

    def _stored(
        self, keyed: list[tuple[MeasurementRecord, Indicator, dt.date]]
    ) -> dict[tuple[int, dt.date], Measurement]:
        """The stored measurements the batch may touch. Files come sorted by indicator or by date, so the
        indicators' ids and the batch's period range together select few rows either way."""
        periods = [period for _, _, period in keyed]
        ids = sorted({indicator.pk for _, indicator, _ in keyed})
        stored = {}
        for chunk in _chunks(ids):
            for measurement in Measurement.objects.filter(
                indicator_id__in=chunk, period__gte=min(periods), period__lte=max(periods)
            ).only("id", "indicator_id", "period", "value", "preliminary", "batch_id"):
                stored[(measurement.indicator_id, measurement.period)] = measurement
        return stored

    def _load_history(self, ids: set[int]) -> None:
        missing = [pk for pk in ids if pk not in self.history]
        for pk in missing:
            self.history[pk] = _History()
        old = [pk for pk in missing if pk not in self.created_ids]
        for chunk in _chunks(old):
            rows = (
                Measurement.objects.filter(indicator_id__in=chunk)
                .exclude(value=0)
                .values("indicator_id")
                .annotate(low=Min(Abs("value")), high=Max(Abs("value")), count=Count("id"))
            )
            for row in rows:
                self.history[row["indicator_id"]] = _History(row["low"], row["high"], row["count"])

    def _check_value(self, record: MeasurementRecord, indicator: Indicator) -> None:
        value = record.value
        if value > _HUNDRED and (record.percent or indicator.measurement_type == "percentage"):
            self.report.warn(record.line, record.column, f"{value.normalize():f} is over 100 for a percentage")
        history = self.history[indicator.pk]
        if value and history.count >= JUMP_HISTORY and history.low is not None and history.high is not None:
            magnitude = abs(value)
            if magnitude > history.high * JUMP or magnitude * JUMP < history.low:
                self.report.warn(
                    record.line,
                    record.column,
                    f"{value.normalize():f} is more than {JUMP}× away from {record.external_id}'s history "
                    f"({history.low.normalize():f} to {history.high.normalize():f})",
                )
        history.add(value)
