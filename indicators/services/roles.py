"""Granting roles and their scope (agencies for liaisons, portfolios for deputy mayors' offices)."""

from collections.abc import Iterable, Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q

from core.errors import InvalidInput
from core.permissions import Role

from ..models import Agency, Portfolio


def _unknown(kind: str, names: Iterable[str]) -> InvalidInput:
    problem = f"unknown {kind}: {', '.join(sorted(names))}"
    return InvalidInput({kind: problem}, message=problem)


def role_grant(*, username: str, role: str, agencies: Sequence[str] = (), portfolios: Sequence[str] = ()) -> None:
    """Give a user a role and (for liaisons and deputy mayors' offices) its scope. Agencies are named by
    code or name, portfolios by code. Creates nothing silently: an unknown user, role, agency or portfolio
    raises ``InvalidInput`` and nothing is written. Safe to repeat."""
    User = get_user_model()
    try:
        user = User.objects.get(username=username)
    except User.DoesNotExist:
        raise _unknown("user", [username]) from None
    if role not in Role.values:
        problem = f"unknown role: {role} (roles: {', '.join(Role.values)})"
        raise InvalidInput({"role": problem}, message=problem)
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
