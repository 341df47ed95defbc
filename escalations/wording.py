"""Every audit event as one sentence a member of staff reads ("Dana Liaison dismissed it: explained by the
agency — ‘one-off vendor delay’"), in one place for every page, e-mail and export that shows events.

An event stores codes and usernames (they are what the hash chain covers and what a machine reads back); the
words are made here when the event is shown: reason codes become their labels, usernames the person's full
name, ISO dates and times the site's format in New York time, ``{"old", "new"}`` pairs "from … to …".
``event_lines`` names the people of many events in one query and labels each event with its case when the
events belong to several cases."""

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import models
from django.utils import timezone

from core.permissions import Role
from indicators.models import (
    CheckRunMode,
    Direction,
    Frequency,
    MeasurementType,
    RuleKind,
    RuleScope,
    TargetKind,
)
from indicators.services.import_writer import COUNT_LABELS

from .audit_trail import Verb, verb_label
from .lifecycle import DismissReason, FlagStatus, NoteKind, Severity, Urgency

if TYPE_CHECKING:
    from .models import Event

# What a field of a ``changes`` record is called in a sentence, and the unit its values carry.
FIELD_LABELS: dict[str, str] = {
    "tolerance": "the tolerance",
    "tolerance_rationale": "the tolerance's rationale",
    "public_impact_weight": "the public-impact weight",
    "critical": "critical",
    "target": "the target",
    "target_kind": "the kind of target",
    "desired_direction": "the desired direction",
    "active": "switched on",
    "name": "the name",
    "code": "the code",
    "kind": "the kind",
    "yellow": "the yellow threshold",
    "red": "the red threshold",
    "params": "the parameters",
    "critical_factor": "the factor for critical indicators",
    "scope": "the scope",
    "agency": "the agency",
    "indicator": "the indicator",
    "replaces_broader": "replaces broader rules",
    "preliminary": "uses preliminary values",
    "budget_number": "the budget number",
    "portfolio": "the portfolio",
    "title": "the title",
    "description": "the description",
    "owner": "the owner",
    "start_date": "the start date",
    "target_date": "the target date",
    "outcome": "the outcome",
    "agencies": "the agencies",
    "portfolios": "the portfolios",
    "roles": "the roles",
    "date": "the date",
    "review_days_red": "the days to review a red case",
    "review_days_yellow": "the days to review a yellow case",
    "decision_days": "the days to a decision",
    "lead_grace_days": "the days before the ops leads are told",
    "measurement_type": "the measurement type",
    "unit": "the unit",
    "frequency": "the frequency",
}
UNITS = {"tolerance": " %"}

# Codes whose labels a value is shown by, per field (a value of another field falls back to its words).
CHOICES: dict[str, type[models.TextChoices]] = {
    "kind": RuleKind,
    "scope": RuleScope,
    "desired_direction": Direction,
    "target_kind": TargetKind,
    "measurement_type": MeasurementType,
    "frequency": Frequency,
    "roles": Role,
    "status": FlagStatus,
    "severity": Severity,
    "old_severity": Severity,
    "urgency": Urgency,
    "reason_code": DismissReason,
    "dismiss_reason": DismissReason,
    "mode": CheckRunMode,
    "kind_of_note": NoteKind,
}


# Who acted when no person did, as the subject of a sentence.
SYSTEM_ACTORS = {
    "nightly check": "The nightly check",
    "SLA check": "The SLA check",
    "audit check": "The audit check",
    "monitoring ended": "Percolate (the monitoring date passed)",
    "system": "Percolate",
    "manage.py": "The command line",
    "manage.py run_checks": "The command line",
    "manage.py grant": "The command line",
    "sign-in": "Sign-in",
}

_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DECIMAL = re.compile(r"^-?\d+\.\d+$")
_CODE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


def person(user) -> str:
    """A user's full name, else username (the ``person`` template filter's rule)."""
    return user.get_full_name() or user.get_username()


def quoted(text: object) -> str:
    return f"‘{str(text).strip()}’"


def value_text(value: object, field: str = "", names: Mapping[str, str] | None = None) -> str:
    """One stored value in words: a code by its label, a username by the person's name, an ISO date or time
    as the site writes it, a decimal as written, a list joined, a yes/no; "nothing" for no value."""
    names = names or {}
    if value is None or value == "" or value == [] or value == {}:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(value_text(item, field, names) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{_words(k)} {value_text(v, k, names)}" for k, v in value.items())
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _string_text(str(value), field, names)


def _string_text(text: str, field: str, names: Mapping[str, str]) -> str:
    """A stored string in words (the JSON column keeps dates, times and decimals as strings)."""
    choices = CHOICES.get(field)
    if choices is not None and text in choices.values:
        return str(choices(text).label)
    if field in ("owner", "assignee", "user", "old", "new") and text in names:
        return names[text]
    if _ISO_DATETIME.match(text):
        try:
            return value_text(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            return text
    if _DECIMAL.match(text):
        return f"{Decimal(text).normalize():f}"
    return _words(text) if _CODE.match(text) else text


def _words(code: str) -> str:
    return code.replace("_", " ")


def _with_unit(field: str, value: object, names: Mapping[str, str]) -> str:
    text = value_text(value, field, names)
    return text + UNITS.get(field, "") if text != "nothing" else text


def change_clauses(changes: object, names: Mapping[str, str] | None = None) -> list[str]:
    """``{field: {"old", "new"}}`` as clauses: "changed the tolerance from 5 % to 10 %", "set the owner to Ana
    Lopez", "cleared the target (was 80)"."""
    if not isinstance(changes, dict):
        return []
    names = names or {}
    clauses = []
    for field, change in changes.items():
        label = FIELD_LABELS.get(field, _words(field))
        if not (isinstance(change, dict) and set(change) == {"old", "new"}):
            clauses.append(f"set {label} to {_with_unit(field, change, names)}")
            continue
        old, new = (_with_unit(field, change[k], names) for k in ("old", "new"))
        if old == "nothing":
            clauses.append(f"set {label} to {new}")
        elif new == "nothing":
            clauses.append(f"cleared {label} (was {old})")
        else:
            clauses.append(f"changed {label} from {old} to {new}")
    return clauses


def _and(parts: list[str]) -> str:
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _created(changes: object, names: Mapping[str, str]) -> str:
    """What a new row was created with: "kind year-over-year change, yellow threshold 5, …"."""
    if not isinstance(changes, dict):
        return ""
    parts = []
    for field, change in changes.items():
        new = change.get("new") if isinstance(change, dict) else change
        text = _with_unit(field, new, names)
        if text != "nothing":
            parts.append(f"{FIELD_LABELS.get(field, _words(field)).removeprefix('the ')} {text}")
    return "; ".join(parts)


def actor_text(event: "Event") -> str:
    """Who acted, as the subject of a sentence: a person by name, Percolate's own checks by what they are."""
    if event.actor_id is not None and event.actor is not None:
        return person(event.actor)
    label = event.actor_label or "system"
    if label in SYSTEM_ACTORS:
        return SYSTEM_ACTORS[label]
    return f"Percolate ({label})"


def _counts(counts: object) -> str:
    if not isinstance(counts, dict):
        return ""
    return ", ".join(f"{n} {COUNT_LABELS.get(name, _words(name)).lower()}" for name, n in counts.items())


def _restated(restated: object, shown: int = 5) -> str:
    """The first restated values of an import: "4.1.2 FY2024 from 5 to 6", and how many more."""
    if not isinstance(restated, list) or not restated:
        return ""
    parts = [
        f"{r.get('external_id')} {value_text(r.get('period'))}: {value_text(r.get('old'))} → {value_text(r.get('new'))}"
        for r in restated[:shown]
        if isinstance(r, dict)
    ]
    more = f" and {len(restated) - shown} more" if len(restated) > shown else ""
    return "; ".join(parts) + more


def _severity(data: Mapping[str, Any]) -> str:
    return value_text(data.get("severity"), "severity").lower()


def _with(text: str, detail: str, sep: str = ": ") -> str:
    return f"{text}{sep}{detail}" if detail else text


# verb → how its event is told: ``(verb, who, data, names) → sentence``.
Teller = Callable[[str, str, Mapping[str, Any], Mapping[str, str]], str]
TELLERS: dict[str, Teller] = {}


def _tells(*verbs: str) -> Callable[[Teller], Teller]:
    def register(teller: Teller) -> Teller:
        TELLERS.update(dict.fromkeys(verbs, teller))
        return teller

    return register


def _text(data: Mapping[str, Any], key: str) -> str:
    """A free text the person typed, quoted; blank when there is none."""
    return quoted(data[key]) if data.get(key) else ""


# ----------------------------------------------------------------------------------- the case lifecycle


@_tells(Verb.FLAG_CREATED)
def _created_by_hand(verb, who, data, names):
    return _with(f"{who} raised the case by hand as {_severity(data)}", _text(data, "summary"))


@_tells(Verb.FLAG_DETECTED)
def _detected(verb, who, data, names):
    return f"{who} opened the case as {_severity(data)}"


@_tells(Verb.FLAG_REGRESSED)
def _regressed(verb, who, data, names):
    previous = f" after case #{data['previous_flag']} was decided" if data.get("previous_flag") else ""
    return _with(f"{who} raised the case again{previous}, as {_severity(data)}", str(data.get("reason") or ""))


@_tells(Verb.FLAG_REDETECTED)
def _redetected(verb, who, data, names):
    return f"{who} found the signals changed{_severity_move(data)}"


@_tells(Verb.FLAG_RECOVERED)
def _recovered(verb, who, data, names):
    cleared = "all signals cleared" if data.get("all_clear") else "some signals cleared"
    return f"{who} found {cleared}{_severity_move(data)}"


@_tells(Verb.FLAG_MERGED)
def _merged(verb, who, data, names):
    if data.get("into"):
        return f"{who} merged this case into case #{data['into']} (one case per indicator)"
    merged = ", ".join(f"#{pk}" for pk in data.get("merged") or [])
    return f"{who} merged cases {merged} into this one (one case per indicator){_severity_move(data)}"


@_tells(Verb.FLAG_OVERDUE)
def _overdue(verb, who, data, names):
    status = value_text(data.get("status"), "status").lower()
    return f"{who} marked the case overdue: it was due {value_text(data.get('due_at'))} while {status}"


@_tells(Verb.FLAG_REVIEWED)
def _reviewed(verb, who, data, names):
    return f"{who} started the review{' and took it on' if data.get('assignee') else ''}"


@_tells(Verb.FLAG_ASSIGNED)
def _assigned(verb, who, data, names):
    old = data.get("old")
    was = f" (was {value_text(old, 'old', names)})" if old else ""
    return f"{who} assigned it to {value_text(data.get('new'), 'new', names)}{was}"


@_tells(Verb.FLAG_SEVERITY_SET)
def _severity_set(verb, who, data, names):
    reason = str(data.get("reason") or "").strip()
    return _with(f"{who} set the severity to {_severity({'severity': data.get('new')})}", reason)


@_tells(Verb.FLAG_MONITORED)
def _monitored(verb, who, data, names):
    return _with(f"{who} is monitoring it until {value_text(data.get('until'))}", _text(data, "reason"))


@_tells(Verb.FLAG_RESUMED)
def _resumed(verb, who, data, names):
    return _with(f"{who} resumed the review", str(data.get("reason") or "").strip())


@_tells(Verb.FLAG_DISMISSED)
def _dismissed(verb, who, data, names):
    reason = value_text(data.get("reason_code"), "reason_code").lower()
    return _with(f"{who} dismissed it: {reason}", _text(data, "note"), " — ")


@_tells(Verb.FLAG_ESCALATED)
def _escalated(verb, who, data, names):
    urgency = value_text(data.get("urgency") or Urgency.ROUTINE, "urgency").lower()
    sentence = _with(f"{who} escalated it to the deputy mayor ({urgency} urgency)", _text(data, "summary"))
    return _with(sentence, _text(data, "recommendation"), " — recommends ")


# Actions told as "<who> <what it did>: '<what they typed>'" — the verb, and the input quoted after it.
_DID_WITH_TEXT = {
    Verb.FLAG_RETURNED: ("returned it with a question", "question"),
    Verb.FLAG_DELEGATED: ("left it to the agency to handle", "note"),
    Verb.FLAG_RESOLVED: ("resolved it", "resolution"),
    Verb.FLAG_REOPENED: ("reopened it", "reason"),
}


def _did_with_text(verb, who, data, names):
    phrase, key = _DID_WITH_TEXT[verb]
    return _with(f"{who} {phrase}", _text(data, key))


_tells(*_DID_WITH_TEXT)(_did_with_text)


@_tells(Verb.FLAG_CONVERTED)
def _converted(verb, who, data, names):
    project = f"project #{data.get('project')} “{data.get('title', '')}”"
    return f"{who} made it a new {project}" if data.get("new_project") else f"{who} added it to {project}"


@_tells(Verb.FLAG_NOTED)
def _noted(verb, who, data, names):
    kind = data.get("kind") or NoteKind.NOTE
    noun = "a note" if kind == NoteKind.NOTE else value_text(kind, "kind_of_note").lower()
    source = f" (source: {data['source']})" if data.get("source") else ""
    return _with(f"{who} added {noun}{source}", _text(data, "body"))


def _severity_move(data: Mapping[str, Any]) -> str:
    old, new = data.get("old_severity"), data.get("severity")
    if old and new and old != new:
        return f"; severity {value_text(old, 'severity').lower()} → {value_text(new, 'severity').lower()}"
    return ""


# --------------------------------------------------------------------------------------------- projects


@_tells(Verb.PROJECT_CREATED)
def _project_created(verb, who, data, names):
    owner = f", owned by {value_text(data['owner'], 'owner', names)}" if data.get("owner") else ""
    agencies = f", with {value_text(data['agencies'])}" if data.get("agencies") else ""
    return f"{who} created the project “{data.get('title', '')}”{owner}{agencies}"


@_tells(Verb.PROJECT_UPDATED, Verb.PROJECT_COMPLETED, Verb.PROJECT_CANCELLED)
def _project_changed(verb, who, data, names):
    done = {Verb.PROJECT_COMPLETED: "completed", Verb.PROJECT_CANCELLED: "cancelled"}.get(verb, "updated")
    return _with(f"{who} {done} the project", _and(change_clauses(data.get("changes"), names)))


@_tells(Verb.MILESTONE_ADDED)
def _milestone_added(verb, who, data, names):
    due = f", due {value_text(data['due'])}" if data.get("due") else ""
    owner = f", for {value_text(data['owner'], 'owner', names)}" if data.get("owner") else ""
    return f"{who} added the milestone “{data.get('title', '')}”{due}{owner}"


@_tells(Verb.MILESTONE_UPDATED)
def _milestone_updated(verb, who, data, names):
    changes = _and(change_clauses(data.get("changes"), names))
    return _with(f"{who} changed the milestone “{data.get('title', '')}”", changes)


@_tells(Verb.MILESTONE_DONE)
def _milestone_done(verb, who, data, names):
    return f"{who} marked the milestone “{data.get('title', '')}” done"


# ------------------------------------------------------------------------ configuration and reference data

_CHANGED = {
    Verb.RULE_UPDATED: "changed the rule",
    Verb.INDICATOR_TUNED: "changed the indicator",
    Verb.INDICATOR_UPDATED: "changed the indicator",
    Verb.AGENCY_UPDATED: "changed the agency",
    Verb.PORTFOLIO_UPDATED: "changed the portfolio",
    Verb.SLA_POLICY_UPDATED: "changed the SLA policy",
    Verb.CLOSURE_SAVED: "saved a closure",
}


@_tells(*_CHANGED)
def _changed(verb, who, data, names):
    """A change of configuration: what, then each field "from … to …"."""
    what = _CHANGED[verb]
    if data.get("name") and verb == Verb.RULE_UPDATED:
        what += f" “{data['name']}”"
    elif data.get("code"):
        what += f" {data['code']}"
    if verb in (Verb.INDICATOR_TUNED, Verb.INDICATOR_UPDATED):  # the page already says which indicator
        return f"{who} {_and(change_clauses(data.get('changes'), names)) or 'changed nothing'}"
    return _with(f"{who} {what}", _and(change_clauses(data.get("changes"), names)))


@_tells(Verb.RULE_CREATED, Verb.AGENCY_CREATED, Verb.PORTFOLIO_CREATED)
def _added(verb, who, data, names):
    noun = verb.split(".")[0]
    name = f"“{data['name']}”" if noun == "rule" else str(data.get("code", ""))
    return _with(f"{who} added the {noun} {name}", _created(data.get("changes"), names))


@_tells(Verb.RULE_ACTIVATED, Verb.RULE_DEACTIVATED, Verb.RULE_DELETED)
def _rule_switched(verb, who, data, names):
    done = {Verb.RULE_ACTIVATED: "switched on", Verb.RULE_DEACTIVATED: "switched off"}.get(verb, "deleted")
    return f"{who} {done} the rule “{data.get('name', '')}”"


@_tells(Verb.ROLE_GRANTED, Verb.ROLE_REVOKED)
def _roles(verb, who, data, names):
    whom = value_text(data.get("user"), "user", names)
    return _with(f"{who} changed {whom}'s roles", _and(change_clauses(data.get("changes"), names)))


@_tells(Verb.CLOSURE_DELETED)
def _closure_deleted(verb, who, data, names):
    return f"{who} removed the closure “{data.get('name', '')}” on {value_text(data.get('date'))}"


# ------------------------------------------------------------------------------ data, runs and accounts


@_tells(Verb.IMPORT_COMPLETED)
def _imported(verb, who, data, names):
    rows = f"{data.get('rows', 0)} rows"
    sentence = _with(f"{who} imported {data.get('file_name', 'a file')} ({rows})", _counts(data.get("counts")))
    return _with(sentence, _restated(data.get("restated")), "; restated: ")


@_tells(Verb.INDICATOR_MERGED)
def _indicator_merged(verb, who, data, names):
    """ "Lee merged MMR-311-… “311 calls (000)” into this indicator: 4 values moved, 1 period in both (FY… kept
    18799, the other 18800 kept as a revision)"."""
    other = data.get("merged") if isinstance(data.get("merged"), dict) else {}
    parts = [f"{data.get('values_moved', 0)} value{'s' if data.get('values_moved') != 1 else ''} moved"]
    if data.get("periods_in_both"):
        conflicts = [c for c in data.get("conflicts") or [] if isinstance(c, dict)]
        shown_conflicts = "; ".join(
            f"{value_text(c.get('period'))}: {value_text(c.get('kept'))} kept, {value_text(c.get('other'))} "
            "kept as a revision"
            for c in conflicts[:5]
        )
        both = f"{data['periods_in_both']} period{'s' if data['periods_in_both'] != 1 else ''} in both"
        parts.append(f"{both} ({shown_conflicts})" if shown_conflicts else both)
    if data.get("cases_moved"):
        parts.append(f"{len(data['cases_moved'])} case{'s' if len(data['cases_moved']) != 1 else ''} moved")
    name = f"{other.get('external_id', '')} “{other.get('name', '')}”".strip()
    return _with(f"{who} merged {name} into this indicator", ", ".join(parts))


@_tells(Verb.CHECK_RUN_STARTED)
def _check_run_started(verb, who, data, names):
    mode = value_text(data.get("mode"), "mode").lower()
    return f"{who} started check run #{data.get('run')}: a {mode} check as of {value_text(data.get('as_of'))}"


@_tells(Verb.AUDIT_CHAIN_BROKEN)
def _chain_broken(verb, who, data, names):
    return _with(f"{who} found the audit chain broken at event #{data.get('event')}", str(data.get("problem", "")))


@_tells(Verb.SIGNIN_LOCKED_OUT)
def _locked_out(verb, who, data, names):
    where = f" from {data['ip']}" if data.get("ip") else ""
    return f"Sign-in was locked for {quoted(data.get('username', ''))}{where} after repeated failures"


@_tells(Verb.TOKEN_CREATED)
def _token_created(verb, who, data, names):
    expiry = f", valid until {value_text(data['expiry'])}" if data.get("expiry") else ""
    return f"{who} created an API token{expiry}"


@_tells(Verb.TOKEN_REVOKED)
def _token_revoked(verb, who, data, names):
    n = len(data.get("token_ids") or [])
    whom = value_text(data.get("user"), "user", names)
    return _with(f"{who} revoked {n} API token{'' if n == 1 else 's'} of {whom}", str(data.get("reason") or ""))


@_tells(Verb.PASSWORD_CHANGED)
def _password_changed(verb, who, data, names):
    whom = value_text(data.get("user"), "user", names)
    n = len(data.get("tokens_revoked") or [])
    what = "changed the password of" if data.get("password_sign_in", True) else "turned off password sign-in for"
    tokens = f"; {n} API token{'' if n == 1 else 's'} revoked" if n else ""
    return f"{who} {what} {whom}{tokens}"


def event_sentence(event: "Event", names: Mapping[str, str] | None = None) -> str:
    """``event`` as one sentence. ``names`` maps the usernames its data mentions to people's names
    (``people_named``); without it they are looked up now (one query)."""
    if names is None:
        names = people_named([event])
    data = event.data if isinstance(event.data, dict) else {}
    who = actor_text(event)
    teller = TELLERS.get(event.verb)
    if teller is None:  # a verb of an older release: its label
        return _full_stop(f"{who}: {verb_label(event.verb).lower()}")
    return _full_stop(teller(event.verb, who, data, names))


def _full_stop(sentence: str) -> str:
    """End with a full stop, unless the sentence (or the quotation it ends with) already has one."""
    sentence = sentence.strip()
    if sentence.rstrip("’”")[-1:] in (".", "?", "!"):
        return sentence
    return sentence + "."


def _usernames(data: Mapping[str, Any]) -> set[str]:
    found = {data[k] for k in ("assignee", "owner", "user", "old", "new") if isinstance(data.get(k), str)}
    owner = (data.get("changes") or {}).get("owner") if isinstance(data.get("changes"), dict) else None
    if isinstance(owner, dict):
        found |= {v for v in owner.values() if isinstance(v, str)}
    return found


def people_named(events: Iterable["Event"]) -> dict[str, str]:
    """Usernames mentioned in the events' data → the people's names, in one query."""
    usernames: set[str] = set()
    for event in events:
        if isinstance(event.data, dict):
            usernames |= _usernames(event.data)
    if not usernames:
        return {}
    users = get_user_model().objects.filter(username__in=usernames)
    return {user.get_username(): person(user) for user in users}


@dataclass(frozen=True)
class EventLine:
    """An event with its sentence and, when the list mixes cases, the case it belongs to."""

    event: "Event"
    sentence: str
    case: int | None


def event_lines(
    events: Iterable["Event"], *, label_cases: bool | None = None, names: Mapping[str, str] | None = None
) -> list[EventLine]:
    """The sentences of many events, naming people in one query (none when ``names`` already does). Each event
    is labelled with its case when the events belong to more than one case (``label_cases`` forces it)."""
    events = list(events)
    if names is None:
        names = people_named(events)
    if label_cases is None:
        label_cases = len({e.flag_id for e in events if e.flag_id is not None}) > 1
    return [EventLine(e, event_sentence(e, names), e.flag_id if label_cases else None) for e in events]
