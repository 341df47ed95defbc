"""The product's URLs plus the floor of ``bench_api.py``: the flags list served by a bare Django view that
returns the same fields with ``JsonResponse`` over the same query. Only the benchmark's settings use it."""

from django.http import JsonResponse
from django.urls import path
from rest_framework.exceptions import AuthenticationFailed

from config.urls import urlpatterns as product_urlpatterns
from escalations.access import available_actions
from escalations.api.authentication import TokenAuthentication
from escalations.case_signals import breach_sentence
from escalations.lifecycle import OPEN_STATUSES
from escalations.priority import priority_terms
from escalations.selectors import flags_visible_to


def _decimal(value):
    return None if value is None else f"{value:.6f}"


def _time(value):
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def _signal(signal, indicator) -> dict:
    rule = signal.rule
    return {
        "rule": {"id": rule.pk, "name": rule.name, "kind": rule.kind},
        "period": signal.period.isoformat(),
        "value": _decimal(signal.value),
        "baseline": _decimal(signal.baseline),
        "change": _decimal(signal.change),
        "measure": _decimal(signal.measure),
        "unit": signal.unit,
        "yellow": _decimal(signal.yellow),
        "red": _decimal(signal.red),
        "severity": signal.severity,
        "preliminary": signal.preliminary,
        "active": signal.cleared_at is None,
        "description": breach_sentence(signal, indicator),
        "first_seen_at": _time(signal.first_seen_at),
        "last_seen_at": _time(signal.last_seen_at),
        "cleared_at": _time(signal.cleared_at),
    }


def floor_flags(request):
    """``GET flags/?open=true&page_size=N`` without DRF: token lookup, the selector's query, a count, one
    page, the same fields (available actions included), ``JsonResponse``."""
    try:
        key = request.headers["Authorization"].split()[1]
        user, _ = TokenAuthentication().authenticate_credentials(key.encode())
    except (KeyError, IndexError, AuthenticationFailed):
        return JsonResponse({"detail": "Authentication credentials were not provided."}, status=401)
    page_size = min(int(request.GET.get("page_size", 50)), 1000)
    page = max(int(request.GET.get("page", 1)), 1)
    flags = flags_visible_to(user).filter(status__in=OPEN_STATUSES).order_by("-id")
    count = flags.count()
    results = []
    for flag in flags[(page - 1) * page_size : page * page_size]:
        indicator, agency = flag.indicator, flag.indicator.agency
        results.append(
            {
                "id": flag.pk,
                "indicator": {
                    "id": indicator.pk,
                    "external_id": indicator.external_id,
                    "name": indicator.name,
                    "agency": agency.code,
                    "critical": indicator.critical,
                },
                "portfolio": agency.portfolio.code if agency.portfolio else None,
                "origin": flag.origin,
                "category": flag.category,
                "summary": flag.summary,
                "severity": flag.severity,
                "severity_pinned": flag.severity_pinned,
                "priority": flag.priority,
                "priority_terms": [{"reason": r, "points": n} for r, n in priority_terms(flag)],
                "signals": [_signal(signal, indicator) for signal in flag.signals.all()],
                "status": flag.status,
                "assignee": flag.assignee.username if flag.assignee else None,
                "detected_at": _time(flag.detected_at),
                "recovered_at": _time(flag.recovered_at),
                "due_at": _time(flag.due_at),
                "overdue_at": _time(flag.overdue_at),
                "monitor_until": flag.monitor_until.isoformat() if flag.monitor_until else None,
                "dismiss_reason": flag.dismiss_reason,
                "resolution": flag.resolution,
                "closed_at": _time(flag.closed_at),
                "previous_flag": flag.previous_flag_id,
                "reraise_reason": flag.reraise_reason,
                "project": flag.project_id,
                "available_actions": available_actions(user, flag),
            }
        )
    return JsonResponse({"count": count, "next": None, "previous": None, "results": results})


urlpatterns = [path("bench/floor/flags/", floor_flags), *product_urlpatterns]
