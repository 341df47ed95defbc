"""Joining two series that turn out to be one indicator (``indicator_merge``). It lives here rather than in
``indicators`` because an indicator's cases move with it, and cases are this app's.

What a merge of ``merged`` into ``survivor`` does, in one transaction with one ``indicator.merged`` event:

- **Values.** Every value of ``merged`` for a period ``survivor`` has no value for moves to ``survivor`` with
  its revisions. Where both have a value, ``survivor``'s stays current: ``merged``'s value becomes a
  revision of it (old value: ``merged``'s, new value: ``survivor``'s, with ``merged``'s import batch and the
  person merging), ``merged``'s own revisions of that period follow, and the event lists the period with both
  values. Equal values need no revision. No value is lost.
- **Cases** (open or closed) move to ``survivor``, their projects, notes and signals with them; the events
  already written keep naming the indicator they were written about. Both indicators having an open case of
  the same queue (performance or data quality) is refused: close or dismiss one of them first (two open cases
  of one indicator and queue cannot be).
- **Rules** scoped to ``merged`` now apply to ``survivor``; its geographic breakouts become ``survivor``'s.
- **Tolerance and weight.** ``survivor`` keeps its own definition, tolerance and public-impact weight; it takes
  ``merged``'s tolerance (with its rationale) only when it has none.
- **``merged`` itself** stays, inactive, with ``merged_into`` set: the audit trail names it, and an import of
  a file naming it (its ID, or its derived id) writes to ``survivor``. ``survivor`` is re-evaluated by the next
  incremental check.

Refused, writing nothing: anyone but an ops lead; an indicator merged into itself, or into (or from) one
already merged; two agencies' indicators (move the indicator first: an agency's series belong to its liaisons);
two frequencies (a monthly and an annual series are not one series); a breakout and its parent."""

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from core.audit import shown
from core.errors import Conflict, InvalidInput
from core.permissions import Capability, require
from indicators.models import Indicator, Measurement, MeasurementRevision, ThresholdRule
from indicators.services.series import indicator_series_refresh

from ..audit_trail import Verb
from ..lifecycle import OPEN_STATUSES
from ..models import Flag
from .events import event_record

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# How many conflicting periods the event lists one by one (the count is always complete).
LISTED_CONFLICTS = 100


def indicator_merge(*, actor: "User", survivor: Indicator, merged: Indicator) -> Indicator:
    """Merge ``merged`` into ``survivor`` (see the module docstring): every value and revision kept, cases,
    rules and breakouts moved, ``merged`` left inactive and pointing at ``survivor``. Ops leads only. Writes
    one ``indicator.merged`` event about ``survivor``; returns it."""
    require(actor, Capability.MERGE_INDICATORS)
    if survivor.pk == merged.pk:
        raise InvalidInput({"merged": "An indicator cannot be merged into itself."})
    with transaction.atomic():
        locked = {
            indicator.pk: indicator
            for indicator in Indicator.objects.select_for_update(of=("self",))
            .select_related("agency")
            .filter(pk__in=[survivor.pk, merged.pk])
            .order_by("pk")
        }
        survivor, merged = locked[survivor.pk], locked[merged.pk]
        _refuse(survivor, merged)
        values = _merge_values(actor, survivor, merged)
        cases = list(Flag.objects.filter(indicator=merged).order_by("id").values_list("id", flat=True))
        Flag.objects.filter(indicator=merged).update(indicator=survivor, updated_at=timezone.now())
        rules = list(ThresholdRule.objects.filter(indicator=merged).order_by("id").values_list("id", flat=True))
        ThresholdRule.objects.filter(indicator=merged).update(indicator=survivor, updated_at=timezone.now())
        breakouts = Indicator.objects.filter(parent=merged).update(parent=survivor)
        Indicator.objects.filter(merged_into=merged).update(merged_into=survivor)
        tolerance = survivor.tolerance is None and merged.tolerance is not None
        if tolerance:
            survivor.tolerance, survivor.tolerance_rationale = merged.tolerance, merged.tolerance_rationale
        survivor.data_changed_at = timezone.now()
        survivor.save(update_fields=["tolerance", "tolerance_rationale", "data_changed_at"])
        merged.merged_into, merged.active, merged.rag, merged.rag_since = survivor, False, "", None
        merged.save(update_fields=["merged_into", "active", "rag", "rag_since"])
        indicator_series_refresh([survivor.pk, merged.pk])
        event_record(
            verb=Verb.INDICATOR_MERGED,
            actor=actor,
            indicator=survivor,
            data={
                "merged": {"id": merged.pk, "external_id": merged.external_id, "name": merged.name},
                **values,
                "cases_moved": cases,
                "rules_moved": rules,
                "breakouts_moved": breakouts,
                "tolerance_taken": shown(merged.tolerance) if tolerance else None,
            },
        )
    survivor.refresh_from_db()
    return survivor


def _refuse(survivor: Indicator, merged: Indicator) -> None:
    """Raise the reason two indicators cannot be merged, if there is one."""
    for indicator in (survivor, merged):
        if indicator.merged_into_id is not None:
            raise Conflict(f"{indicator.external_id} was merged into another indicator already.")
    if survivor.agency_id != merged.agency_id:
        raise InvalidInput(
            {
                "merged": f"{merged.external_id} belongs to {merged.agency.name}, {survivor.external_id} to "
                f"{survivor.agency.name}: only one agency's indicators are merged."
            }
        )
    if survivor.frequency != merged.frequency:
        raise InvalidInput(
            {
                "merged": f"{merged.external_id} is {merged.get_frequency_display().lower()}, "
                f"{survivor.external_id} {survivor.get_frequency_display().lower()}: they are not one series."
            }
        )
    if merged.parent_id == survivor.pk or survivor.parent_id == merged.pk:
        raise InvalidInput({"merged": "One is a breakout of the other: they are not one series."})
    open_cases = Flag.objects.filter(indicator__in=[survivor, merged], status__in=OPEN_STATUSES)
    by_category: dict[str, list[int]] = {}
    for flag_id, category in open_cases.order_by("id").values_list("id", "category"):
        by_category.setdefault(category, []).append(flag_id)
    both = next((ids for ids in by_category.values() if len(ids) > 1), None)
    if both:
        raise Conflict(
            f"Both indicators have an open case of the same queue (#{both[0]} and #{both[1]}): "
            "close or dismiss one of them first."
        )


def _merge_values(actor: "User", survivor: Indicator, merged: Indicator) -> dict[str, Any]:
    """Move ``merged``'s values to ``survivor``; a period both have keeps ``survivor``'s value, ``merged``'s
    becoming its revision. Returns the counts and the first conflicting periods for the event."""
    kept = {m.period: m for m in Measurement.objects.filter(indicator=survivor).only("id", "period", "value")}
    theirs = list(Measurement.objects.filter(indicator=merged, period__in=list(kept)).order_by("period"))
    moved = Measurement.objects.filter(indicator=merged).exclude(period__in=list(kept)).update(indicator=survivor)
    revisions: list[MeasurementRevision] = []
    conflicts: list[dict[str, Any]] = []
    for other in theirs:
        current = kept[other.period]
        MeasurementRevision.objects.filter(measurement=other).update(measurement=current)
        if other.value != current.value:
            revisions.append(
                MeasurementRevision(
                    measurement=current,
                    old_value=other.value,
                    new_value=current.value,
                    old_preliminary=other.preliminary,
                    batch_id=other.batch_id,
                    changed_by=actor,
                )
            )
            if len(conflicts) < LISTED_CONFLICTS:
                conflicts.append({"period": other.period, "kept": shown(current.value), "other": shown(other.value)})
    MeasurementRevision.objects.bulk_create(revisions)
    Measurement.objects.filter(pk__in=[other.pk for other in theirs]).delete()
    return {
        "values_moved": moved,
        "periods_in_both": len(theirs),
        "values_kept_as_revisions": len(revisions),
        "conflicts": conflicts,
    }
