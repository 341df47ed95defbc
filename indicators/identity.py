"""Which agency a file means, and which indicator: the one normalisation of names and the agency lookup that
imports and the reference-data services share.

New York's files name one agency several ways — ``311`` and ``3-1-1``, "Department of Sanitation" and
``DSNY``, with or without its budget number — and one indicator from several sources, some without an ID.
``normal_name`` makes the spellings that mean the same thing equal; ``AgencyIndex`` finds an agency by budget
number, code, name or alias. Reads only: creating an agency or an alias is the callers' business."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .models import UNASSIGNED_AGENCY_CODE, Agency, AgencyAlias

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
# How many near matches an unknown agency's warning lists, and how near they must be (difflib's ratio).
NEAR_MATCHES = 3
NEAR_CUTOFF = 0.6


def normal_name(text: str) -> str:
    """A name with case, spaces and punctuation ignored: "3-1-1" is "311", "Department of Parks &
    Recreation" is "Department of Parks and Recreation". ``%`` and ``$`` are words ("percent", "dollars"), so
    that "Cases" and "Cases (%)" stay two names."""
    lowered = text.casefold().replace("&", " and ").replace("%", " percent ").replace("$", " dollars ")
    return _NOT_ALNUM.sub("", lowered)


@dataclass(frozen=True)
class AgencyMatch:
    """The agency a row names (None: no agency known by any of its names) and, when the row's budget number
    and its words disagree, what the import should say about it."""

    agency: Agency | None
    note: str = ""


@dataclass
class AgencyIndex:
    """Every agency by budget number and by the normal form of its code, name and aliases; loaded once per
    import (two queries), extended as the import creates agencies."""

    by_number: dict[str, list[Agency]] = field(default_factory=dict)
    by_name: dict[str, Agency] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # normal name → the name as written

    @classmethod
    def load(cls) -> AgencyIndex:
        index = cls()
        agencies = {agency.pk: agency for agency in Agency.objects.all()}
        for agency in agencies.values():
            index.add(agency)
        for alias in AgencyAlias.objects.order_by("id"):
            index.add_name(agencies[alias.agency_id], alias.name)
        return index

    def add(self, agency: Agency) -> None:
        if agency.budget_number:
            self.by_number.setdefault(agency.budget_number.strip().lstrip("0"), []).append(agency)
        self.add_name(agency, agency.code)
        self.add_name(agency, agency.name)

    def add_name(self, agency: Agency, name: str) -> None:
        key = normal_name(name)
        if key:
            self.by_name.setdefault(key, agency)
            self.labels.setdefault(key, name)

    def named(self, *names: str) -> Agency | None:
        """The agency the first of ``names`` that is known names (callers pass the code before the name)."""
        for name in names:
            agency = self.by_name.get(normal_name(name)) if name else None
            if agency is not None:
                return agency
        return None

    def unassigned(self) -> Agency | None:
        return self.by_name.get(normal_name(UNASSIGNED_AGENCY_CODE))

    def match(self, *, number: str = "", code: str = "", name: str = "") -> AgencyMatch:
        """The agency a row names: by budget number first, then code, then name or alias.

        A budget number is not always one agency's: 311 and the Office of Technology and Innovation share
        858, the Health Department and the Medical Examiner 816, and the Comptroller's file gives the Police
        Department's 56 to five of the Department of Education's school-safety indicators. So the number
        decides alone only when its one agency agrees with the row's words or the words name no known agency
        (an agency renamed since the file was written is still found by its number); when several agencies
        share the number, the words pick among them; when number and words name different agencies, the
        words win (they are what a person reads in the file) and the match says so."""
        number = number.strip().lstrip("0")
        holders = self.by_number.get(number, []) if number else []
        named = self.named(code, name)
        if named is not None and (not holders or named in holders):
            return AgencyMatch(named)
        if named is not None:
            owners = " and ".join(f"{agency.name} ({agency.code})" for agency in holders)
            return AgencyMatch(
                named, f"budget number {number} is that of {owners}; the file names {named.name}, taken as named"
            )
        if len(holders) == 1:
            return AgencyMatch(holders[0])
        return AgencyMatch(None)

    def near(self, *names: str, number: str = "") -> list[str]:
        """The known agencies closest to an unknown one, as "name (code)": by difflib's ratio over every
        code, name and alias, then those sharing its budget number."""
        found: list[Agency] = []
        keys = list(self.by_name)
        for name in names:
            close = difflib.get_close_matches(normal_name(name), keys, n=NEAR_MATCHES, cutoff=NEAR_CUTOFF)
            found.extend(self.by_name[key] for key in close)
        found += self.by_number.get(number.strip().lstrip("0"), []) if number else []
        unique = list(dict.fromkeys(agency for agency in found if agency.code != UNASSIGNED_AGENCY_CODE))
        return [f"{agency.name} ({agency.code})" for agency in unique[:NEAR_MATCHES]]


def alias_conflicts(agency: Agency, names: Iterable[str]) -> dict[str, str]:
    """Which of ``names`` (an agency's code, name and aliases) already name another agency: name → that
    agency's name. One name means one agency, or imports could not tell them apart."""
    wanted = {normal_name(name): name for name in names if normal_name(name)}
    if not wanted:
        return {}
    others = Agency.objects.exclude(pk=agency.pk) if agency.pk else Agency.objects.all()
    taken: dict[str, str] = {}
    for other in others:
        for name in (other.code, other.name):
            taken.setdefault(normal_name(name), other.name)
    aliases = AgencyAlias.objects.select_related("agency").filter(key__in=list(wanted))
    if agency.pk:
        aliases = aliases.exclude(agency=agency)
    for alias in aliases:
        taken.setdefault(alias.key, alias.agency.name)
    return {name: taken[key] for key, name in wanted.items() if key in taken}
