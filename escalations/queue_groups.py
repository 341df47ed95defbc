"""The triage queue's rows, with community-district breakouts grouped under their parent indicator.

The MMR reports some indicators per borough or community district as well as citywide; each breakout is an
indicator of its own (``Indicator.parent`` set by the importer) and can have a case of its own. Shown as
separate rows they hide that five cases are one problem in five places, so the page groups them: the
parent's case, then its breakouts' cases, indented and labelled with their place. A parent with no case on the
page gets a header row that names it.

The grouping only reorders one page of the list (what ``FlagFilter`` and the paginator chose), so paging, the
API's flat list and the query count stay what they were: a group sits where its first case in the page's
order (the highest-priority one, in the everyday view) would sit, and every other row keeps its place."""

from dataclasses import dataclass
from typing import Any

from indicators.models import Indicator

from .models import Flag

# What separates a breakout's place from its parent's name: the importer writes "<parent name> — Bronx".
PLACE_SEPARATORS = " —–-:,()"


@dataclass(frozen=True)
class QueueRow:
    """One row of the queue: a case (``flag``), or the header of a group whose parent has no case on this
    page (``flag`` is None, ``parent`` named). ``place``: a breakout's place ("Bronx CD 1"), shown as its
    label; ``breakouts``: on a group's first row, how many breakout cases follow it."""

    flag: Flag | None
    parent: Indicator | None = None
    place: str = ""
    breakouts: int = 0

    @property
    def is_breakout(self) -> bool:
        return bool(self.place)


def breakout_place(indicator: Indicator) -> str:
    """Where a breakout measures, read from its name: what follows its parent's name ("… — Bronx CD 1" →
    "Bronx CD 1"), or its whole name when it does not start with its parent's."""
    parent = indicator.parent
    name = indicator.name
    if parent is not None and name.lower().startswith(parent.name.lower()):
        place = name[len(parent.name) :].strip(PLACE_SEPARATORS)
        if place:
            return place
    return name


def queue_rows(flags: Any) -> list[QueueRow]:
    """The page's cases (in the list's order, each with ``indicator__parent`` loaded) as rows, each breakout's
    case right after its parent's case (or its group's header)."""
    flags = list(flags)
    parents = {flag.indicator.parent_id for flag in flags} - {None}  # the page's groups
    groups: dict[int, list[Flag]] = {}  # parent indicator id → its cases and its breakouts', in page order
    order: list[int | Flag] = []  # a group (by its parent's id) or a case outside any group, in page order
    for flag in flags:
        parent_id = flag.indicator.parent_id
        key = parent_id if parent_id is not None else flag.indicator_id
        if key not in parents:  # neither a breakout nor a parent of one on this page
            order.append(flag)
            continue
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(flag)
    rows: list[QueueRow] = []
    for item in order:
        if isinstance(item, Flag):
            rows.append(QueueRow(flag=item))
            continue
        members = groups[item]
        own = [flag for flag in members if flag.indicator_id == item]
        breakouts = [flag for flag in members if flag.indicator_id != item]
        if own:
            rows.append(QueueRow(flag=own[0], breakouts=len(breakouts)))
            rows.extend(QueueRow(flag=flag) for flag in own[1:])
        else:
            rows.append(QueueRow(flag=None, parent=breakouts[0].indicator.parent, breakouts=len(breakouts)))
        rows.extend(QueueRow(flag=f, parent=f.indicator.parent, place=breakout_place(f.indicator)) for f in breakouts)
    return rows
