"""An indicator's colour: what the latest check measured (``Indicator.rag``), written by the check itself.

Red or yellow is the worst severity among the performance rules that breach; green, none breaches. Nobody's
triage decision changes it: a dismissed case leaves a red indicator red until its data recovers."""

import datetime as dt
from collections.abc import Iterable

from django.db import connection

from ..models import Indicator, Rag

_RANK: dict[str, int] = {Rag.GREEN: 0, Rag.YELLOW: 1, Rag.RED: 2}
_CHUNK = 5000  # ids per IN list on SQLite, within its parameter limit


def indicator_rag_record(*, checked: Iterable[int], breaches: Iterable[tuple[int, str]], now: dt.datetime) -> int:
    """Set the colour of the ``checked`` indicators (all of whose rules a check just evaluated) from the
    performance ``breaches`` it found ((indicator id, severity) pairs): one ``UPDATE`` per colour (and chunk),
    each touching only the indicators whose colour changed, inside the caller's transaction. Returns how many
    changed. Safe to repeat."""
    wanted = dict.fromkeys(checked, Rag.GREEN)
    for indicator_id, severity in breaches:
        if indicator_id in wanted and _RANK[severity] > _RANK[wanted[indicator_id]]:
            wanted[indicator_id] = Rag(severity)
    by_colour: dict[Rag, list[int]] = {}
    for indicator_id, rag in wanted.items():
        by_colour.setdefault(rag, []).append(indicator_id)
    table = connection.ops.quote_name(Indicator._meta.db_table)
    changed = 0
    with connection.cursor() as cursor:
        for rag, ids in by_colour.items():
            batches: list[list[int]] | list[list[list[int]]]  # each batch: the ids, or one array parameter of them
            if connection.vendor == "postgresql":  # one array parameter, however many ids
                batches, match = [[ids]], "id = ANY(%s)"
            else:
                batches = [ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)]
                match = None
            for batch in batches:
                where = match or f"id IN ({', '.join(['%s'] * len(batch))})"
                cursor.execute(
                    f"UPDATE {table} SET rag = %s, rag_since = %s WHERE {where} AND rag <> %s",
                    [rag, now, *batch, rag],
                )
                changed += cursor.rowcount
    return changed
