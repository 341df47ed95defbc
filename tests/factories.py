"""factory_boy factories. Flags start life here only as freshly detected flags; every later status is
reached through the services (see ``tests/escalations/conftest.py``).

Each factory names its model as its type parameter: ``FlagFactory.create()`` is typed as a ``Flag``. (Calling
the factory itself, ``FlagFactory()``, does the same but is typed as the factory: use ``.create()`` where the
type matters, in annotated functions that mypy checks.)"""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone

from escalations.lifecycle import Severity
from escalations.models import Flag, FlagOrigin, Signal
from indicators.models import (
    Agency,
    Direction,
    Indicator,
    Measurement,
    MeasureUnit,
    Portfolio,
    RuleKind,
    ThresholdRule,
)


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@percolate.example")
    password = factory.django.Password("pw")


class PortfolioFactory(factory.django.DjangoModelFactory[Portfolio]):
    class Meta:
        model = Portfolio

    code = factory.Sequence(lambda n: f"P{n}")
    name = factory.Sequence(lambda n: f"Deputy Mayor {n}")


class AgencyFactory(factory.django.DjangoModelFactory[Agency]):
    class Meta:
        model = Agency

    code = factory.Sequence(lambda n: f"AG{n}")
    name = factory.Sequence(lambda n: f"Test Agency {n}")
    portfolio = factory.SubFactory(PortfolioFactory)


class IndicatorFactory(factory.django.DjangoModelFactory[Indicator]):
    class Meta:
        model = Indicator

    agency = factory.SubFactory(AgencyFactory)
    external_id = factory.Sequence(lambda n: f"T{n}")
    name = factory.Sequence(lambda n: f"Test indicator {n}")
    desired_direction = Direction.UP


class MeasurementFactory(factory.django.DjangoModelFactory[Measurement]):
    class Meta:
        model = Measurement

    indicator = factory.SubFactory(IndicatorFactory)
    period = dt.date(2022, 7, 1)
    value = Decimal("10")


class RuleFactory(factory.django.DjangoModelFactory[ThresholdRule]):
    class Meta:
        model = ThresholdRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = RuleKind.YEAR_OVER_YEAR
    yellow = Decimal("5")
    red = Decimal("10")


class FlagFactory(factory.django.DjangoModelFactory[Flag]):
    """A case as detection opens it: status ``detected``, with one signal of a year-over-year rule (10 % worse,
    the case's severity). ``signal__…`` sets the signal's fields (``signal__rule``, ``signal__period``, …);
    ``signal=False`` makes a case without one."""

    class Meta:
        model = Flag
        skip_postgeneration_save = True

    indicator = factory.SubFactory(IndicatorFactory)
    origin = FlagOrigin.AUTOMATED
    severity = Severity.YELLOW
    beyond = Decimal("2")  # the default signal: 10 % worse against a yellow threshold of 5 %
    detected_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def signal(flag, create, extracted, **fields):  # noqa: N805 (factory_boy passes the object made)
        if not create or extracted is False:
            return
        values = {
            "period": dt.date(2022, 7, 1),
            "value": Decimal("90"),
            "baseline": Decimal("100"),
            "change": Decimal("-0.1"),
            "measure": Decimal("10"),
            "unit": MeasureUnit.PERCENT,
            "yellow": Decimal("5"),
            "red": Decimal("10"),
            "severity": flag.severity,
            "first_seen_at": flag.detected_at,
            "last_seen_at": flag.detected_at,
            **fields,
        }
        rule_fields = {key[len("rule__") :]: values.pop(key) for key in list(values) if key.startswith("rule__")}
        if "rule" not in values:
            values["rule"] = RuleFactory(**rule_fields)
        Signal.objects.create(flag=flag, **values)
