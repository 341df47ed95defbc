"""factory_boy factories. Flags start life here only as freshly detected flags; every later status is
reached through the services (see ``tests/escalations/conftest.py``)."""

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from escalations.lifecycle import Severity
from escalations.models import Flag, FlagOrigin
from indicators.models import Agency, Direction, Indicator, Measurement, Portfolio, RuleKind, ThresholdRule


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@percolate.example")
    password = factory.django.Password("pw")


class PortfolioFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Portfolio

    code = factory.Sequence(lambda n: f"P{n}")
    name = factory.Sequence(lambda n: f"Deputy Mayor {n}")


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    code = factory.Sequence(lambda n: f"AG{n}")
    name = factory.Sequence(lambda n: f"Test Agency {n}")
    portfolio = factory.SubFactory(PortfolioFactory)


class IndicatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Indicator

    agency = factory.SubFactory(AgencyFactory)
    external_id = factory.Sequence(lambda n: f"T{n}")
    name = factory.Sequence(lambda n: f"Test indicator {n}")
    desired_direction = Direction.UP


class MeasurementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Measurement

    indicator = factory.SubFactory(IndicatorFactory)
    period = dt.date(2022, 7, 1)
    value = Decimal("10")


class RuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ThresholdRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = RuleKind.YEAR_OVER_YEAR
    yellow = Decimal("5")
    red = Decimal("10")


class FlagFactory(factory.django.DjangoModelFactory):
    """A flag as detection opens it: status ``detected``."""

    class Meta:
        model = Flag

    indicator = factory.SubFactory(IndicatorFactory)
    rule = factory.SubFactory(RuleFactory)
    origin = FlagOrigin.AUTOMATED
    severity = Severity.YELLOW
    period = dt.date(2022, 7, 1)
    value = Decimal("90")
    baseline = Decimal("100")
    change = Decimal("-0.1")
    worse_by = Decimal("0.1")
    detected_at = factory.LazyFunction(timezone.now)
    last_detected_at = factory.LazyFunction(timezone.now)
