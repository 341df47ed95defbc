"""Granting and revoking roles and their scope (agencies for liaisons, portfolios for deputy mayors' offices).
Each change writes one audit event (``role.granted`` / ``role.revoked``) with the user's roles, agencies and
portfolios before and after."""

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from core.audit import diff, record_change
from core.errors import InvalidInput
from core.permissions import Role

from ..identity import AgencyIndex
from ..models import Agency, Portfolio

if TYPE_CHECKING:
    from django.contrib.auth.models import User

COMMAND = "manage.py grant"  # who acted when no signed-in user did


def _unknown(kind: str, names: Iterable[str]) -> InvalidInput:
    problem = f"unknown {kind}: {', '.join(sorted(names))}"
    return InvalidInput({kind: problem}, message=problem)


def _resolve(
    username: str, role: str, agencies: Sequence[str], portfolios: Sequence[str]
) -> tuple["User", list[Agency], list[Portfolio]]:
    """The user, agencies and portfolios named; ``InvalidInput`` for anything unknown."""
    User = get_user_model()
    try:
        user = User.objects.get(username=username)
    except User.DoesNotExist:
        raise _unknown("user", [username]) from None
    if role not in Role.values:
        problem = f"unknown role: {role} (roles: {', '.join(Role.values)})"
        raise InvalidInput({"role": problem}, message=problem)
    agency_objects = []
    index = AgencyIndex.load() if agencies else None
    for name in agencies:
        found = index.named(name) if index else None  # by code, name or alias, as imports find it
        if found is None:
            raise _unknown("agency", [name])
        agency_objects.append(found)
    portfolio_objects = list(Portfolio.objects.filter(code__in=portfolios))
    missing = set(portfolios) - {p.code for p in portfolio_objects}
    if missing:
        raise _unknown("portfolio", missing)
    return user, agency_objects, portfolio_objects


def _standing(user: "User") -> dict[str, Any]:
    """A user's roles and scope as the audit trail shows them."""
    return {
        "roles": sorted(user.groups.values_list("name", flat=True)),
        "agencies": sorted(user.agencies.values_list("code", flat=True)),
        "portfolios": sorted(user.portfolios.values_list("code", flat=True)),
    }


def _record(verb: str, user: "User", before: dict[str, Any], actor: "User | None") -> None:
    changed = diff(before, _standing(user))
    if changed:
        data = {"user": user.get_username(), "changes": changed}
        record_change(verb=verb, actor=actor, actor_label="" if actor else COMMAND, data=data)


def role_grant(
    *,
    username: str,
    role: str,
    agencies: Sequence[str] = (),
    portfolios: Sequence[str] = (),
    actor: "User | None" = None,
) -> None:
    """Give a user a role and (for liaisons and deputy mayors' offices) its scope. Agencies are named by
    code or name, portfolios by code. Creates nothing silently: an unknown user, role, agency or portfolio
    raises ``InvalidInput`` and nothing is written. Writes ``role.granted`` with the roles and scope before
    and after (``actor`` absent: ``manage.py grant``). Safe to repeat: a grant the user already holds writes
    nothing."""
    user, agency_objects, portfolio_objects = _resolve(username, role, agencies, portfolios)
    with transaction.atomic():
        before = _standing(user)
        user.groups.add(Group.objects.get(name=role))
        user.agencies.add(*agency_objects)
        user.portfolios.add(*portfolio_objects)
        _record("role.granted", user, before, actor)


def role_revoke(
    *,
    username: str,
    role: str,
    agencies: Sequence[str] = (),
    portfolios: Sequence[str] = (),
    actor: "User | None" = None,
) -> None:
    """Take back a role, or part of its scope. With agencies or portfolios named, only those are taken from
    the user (the role stays); with none, the role goes, and with it the scope only that role used (a
    liaison's agencies, a deputy mayor's office's portfolios). Writes ``role.revoked`` with the roles and
    scope before and after; unknown names raise ``InvalidInput``. Safe to repeat: revoking what the user
    does not hold writes nothing."""
    user, agency_objects, portfolio_objects = _resolve(username, role, agencies, portfolios)
    with transaction.atomic():
        before = _standing(user)
        if agency_objects or portfolio_objects:
            user.agencies.remove(*agency_objects)
            user.portfolios.remove(*portfolio_objects)
        else:
            user.groups.remove(Group.objects.get(name=role))
            if role == Role.LIAISON:
                user.agencies.clear()
            if role == Role.DEPUTY_MAYOR:
                user.portfolios.clear()
        _record("role.revoked", user, before, actor)
