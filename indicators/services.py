"""Every write of the indicators app: importing files, and granting roles and scope."""

import hashlib
import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from . import importers
from .importers.base import ParseResult, Problem
from .models import (
    UNASSIGNED_AGENCY_CODE,
    Agency,
    ImportBatch,
    Indicator,
    Measurement,
    MeasurementRevision,
    Portfolio,
)
from .roles import Role

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


class ImportRejected(Exception):
    """The file has errors; nothing was written. ``errors`` lists every problem found."""

    def __init__(self, errors: list[Problem], warnings: list[Problem] = ()):
        super().__init__(f"{len(errors)} error(s); nothing was imported")
        self.errors = errors
        self.warnings = list(warnings)


@dataclass
class ImportOutcome:
    batch: ImportBatch | None  # None for a dry run
    duplicate_of: ImportBatch | None = None  # set when the identical file was imported before
    counts: dict = field(default_factory=dict)
    warnings: list[Problem] = field(default_factory=list)


def _new_agency_code(name: str, taken: set[str]) -> str:
    initials = "".join(word[0] for word in re.findall(r"[A-Za-z0-9]+", name)).upper()[:12] or "AGENCY"
    code, n = initials, 2
    while code in taken:
        code, n = f"{initials}{n}", n + 1
    taken.add(code)
    return code


def _resolve_agencies(parsed: ParseResult) -> dict[str, Agency]:
    """Agency by the name the file uses (empty name: UNASSIGNED). Unknown agencies are created without a
    portfolio, with a warning, so that nothing is dropped."""
    names = {record.agency_name for record in parsed.indicators}
    known = {agency.name.lower(): agency for agency in Agency.objects.all()}
    known.update({agency.code.lower(): agency for agency in known.values()})
    taken = {agency.code for agency in known.values()}
    resolved = {}
    for name in sorted(names):
        if not name:
            resolved[name], _ = Agency.objects.get_or_create(
                code=UNASSIGNED_AGENCY_CODE, defaults={"name": "Unassigned"}
            )
        elif name.lower() in known:
            resolved[name] = known[name.lower()]
        else:
            first = next(record for record in parsed.indicators if record.agency_name == name)
            parsed.warn(first.line, None, f'agency "{name}" was not known; created without a portfolio')
            resolved[name] = Agency.objects.create(
                code=_new_agency_code(name, taken), name=name, budget_number=first.agency_number[:16]
            )
    return resolved


def _apply(parsed: ParseResult, batch: ImportBatch, user) -> dict:
    """Write the parsed records: upsert indicators, add new measurements, restate changed ones (keeping the
    old value as a revision) and mark the indicators whose data changed for the next check."""
    now = timezone.now()
    agencies = _resolve_agencies(parsed)
    existing = Indicator.objects.in_bulk([r.external_id for r in parsed.indicators], field_name="external_id")
    created, updated = [], []
    for record in parsed.indicators:
        values = {name: getattr(record, name) for name in INDICATOR_FIELDS}
        values["agency"] = agencies[record.agency_name]
        indicator = existing.get(record.external_id)
        if indicator is None:
            created.append(Indicator(external_id=record.external_id, **values))
        elif any(getattr(indicator, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(indicator, name, value)
            updated.append(indicator)
    Indicator.objects.bulk_create(created, batch_size=1000)
    Indicator.objects.bulk_update(updated, [*INDICATOR_FIELDS, "agency"], batch_size=1000)
    ids = dict(
        Indicator.objects.filter(external_id__in=[r.external_id for r in parsed.indicators]).values_list(
            "external_id", "id"
        )
    )

    stored = {
        (m.indicator_id, m.period): m
        for m in Measurement.objects.filter(indicator_id__in=ids.values()).only(
            "id", "indicator_id", "period", "value", "preliminary"
        )
    }
    new, restated, revisions, unchanged, changed_indicators = [], [], [], 0, set()
    for record in parsed.measurements:
        indicator_id = ids[record.external_id]
        current = stored.get((indicator_id, record.period))
        if current is None:
            new.append(
                Measurement(
                    indicator_id=indicator_id,
                    period=record.period,
                    value=record.value,
                    preliminary=record.preliminary,
                    batch=batch,
                )
            )
            changed_indicators.add(indicator_id)
        elif current.value != record.value or current.preliminary != record.preliminary:
            if current.value != record.value:
                revisions.append(
                    MeasurementRevision(
                        measurement=current,
                        old_value=current.value,
                        new_value=record.value,
                        old_preliminary=current.preliminary,
                        batch=batch,
                        changed_by=user,
                    )
                )
                parsed.warn(
                    record.line,
                    record.column,
                    f"restated: {record.external_id} for the period starting {record.period} was {current.value}, "
                    f"now {record.value}",
                )
                changed_indicators.add(indicator_id)
            current.value, current.preliminary, current.batch, current.updated_at = (
                record.value,
                record.preliminary,
                batch,
                now,
            )
            restated.append(current)
        else:
            unchanged += 1
    Measurement.objects.bulk_create(new, batch_size=2000)
    Measurement.objects.bulk_update(restated, ["value", "preliminary", "batch", "updated_at"], batch_size=2000)
    MeasurementRevision.objects.bulk_create(revisions, batch_size=2000)
    Indicator.objects.filter(id__in=changed_indicators).update(data_changed_at=now)
    return {
        "indicators_created": len(created),
        "indicators_updated": len(updated),
        "measurements_created": len(new),
        "measurements_restated": len(revisions),
        "measurements_unchanged": unchanged,
    }


def import_file(*, file_name: str, content: bytes, format: str | None = None, user=None, dry_run: bool = False) -> ImportOutcome:
    """Import one file, all or nothing.

    Raises ``ImportRejected`` with every error (line, column, reason) when the file cannot be imported whole;
    nothing is written then. An identical file imported before is recognised by its SHA-256 and changes
    nothing. ``dry_run`` validates and counts inside a transaction that is rolled back. Safe to repeat."""
    try:
        parsed = importers.read(content, format)
    except importers.FileRejected as error:
        raise ImportRejected([error.problem]) from None
    if parsed.errors:
        raise ImportRejected(parsed.errors, parsed.warnings)
    sha256 = hashlib.sha256(content).hexdigest()
    previous = ImportBatch.objects.filter(sha256=sha256).order_by("imported_at").first()
    if previous is not None and not dry_run:
        return ImportOutcome(batch=previous, duplicate_of=previous, counts={}, warnings=[])

    class _DryRun(Exception):
        pass

    outcome = ImportOutcome(batch=None)
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                file_name=file_name[:255], sha256=sha256, format=parsed.format, rows_read=parsed.rows, imported_by=user
            )
            counts = _apply(parsed, batch, user)
            for name, value in counts.items():
                setattr(batch, name, value)
            batch.warnings = [warning.as_dict() for warning in parsed.warnings]
            batch.save()
            outcome = ImportOutcome(batch=batch, counts=counts, warnings=parsed.warnings)
            if dry_run:
                raise _DryRun
    except _DryRun:
        outcome.batch = None
    return outcome


def _unknown(kind: str, names) -> ValueError:
    return ValueError(f"unknown {kind}: {', '.join(sorted(names))}")


def role_grant(*, username: str, role: str, agencies: list[str] = (), portfolios: list[str] = ()) -> None:
    """Give a user a role and (for liaisons and deputy mayors' offices) its scope. Agencies are named by
    code or name, portfolios by code. Creates nothing silently: an unknown user, role, agency or portfolio
    raises ``ValueError`` and nothing is written. Safe to repeat."""
    User = get_user_model()
    try:
        user = User.objects.get(username=username)
    except User.DoesNotExist:
        raise ValueError(f"unknown user: {username}") from None
    if role not in Role.values:
        raise ValueError(f"unknown role: {role} (roles: {', '.join(Role.values)})")
    agency_objects = []
    for name in agencies:
        found = Agency.objects.filter(Q(code__iexact=name) | Q(name__iexact=name)).first()
        if found is None:
            raise _unknown("agency", [name])
        agency_objects.append(found)
    portfolio_objects = list(Portfolio.objects.filter(code__in=portfolios))
    missing = set(portfolios) - {p.code for p in portfolio_objects}
    if missing:
        raise _unknown("portfolio", missing)
    with transaction.atomic():
        user.groups.add(Group.objects.get(name=role))
        user.agencies.add(*agency_objects)
        user.portfolios.add(*portfolio_objects)
