"""An indicator's colour: what the latest check measured (``Indicator.rag``), written by the check itself.

Red or yellow is the worst severity among the performance rules that breach; green, none breaches. Nobody's
triage decision changes it: a dismissed case leaves a red indicator red until its data recovers."""

import datetime as dt
from collections.abc import Iterable

from ..models import Indicator, Rag

_RANK = {Rag.GREEN: 0, Rag.YELLOW: 1, Rag.RED: 2}
_CHUNK = 5000  # ids per IN list, within SQLite's parameter limit


def indicator_rag_record(*, checked: Iterable[int], breaches: Iterable[tuple[int, str]], now: dt.datetime) -> int:
    """Set the colour of the ``checked`` indicators (all of whose rules a check just evaluated) from the
    performance ``breaches`` it found ((indicator id, severity) pairs). Writes only the indicators whose colour
    changed, one ``UPDATE`` per colour and chunk, inside the caller's transaction; returns how many changed.
    Safe to repeat."""
    wanted = dict.fromkeys(checked, Rag.GREEN)
    for indicator_id, severity in breaches:
        if indicator_id in wanted and _RANK[severity] > _RANK[wanted[indicator_id]]:
            wanted[indicator_id] = Rag(severity)
    ids = sorted(wanted)
    changed: dict[str, list[int]] = {}
    for start in range(0, len(ids), _CHUNK):
        for pk, rag in Indicator.objects.filter(pk__in=ids[start : start + _CHUNK]).values_list("pk", "rag"):
            if rag != wanted[pk]:
                changed.setdefault(wanted[pk], []).append(pk)
    for rag, pks in changed.items():
        for start in range(0, len(pks), _CHUNK):
            Indicator.objects.filter(pk__in=pks[start : start + _CHUNK]).update(rag=rag, rag_since=now)
    return sum(len(pks) for pks in changed.values())
