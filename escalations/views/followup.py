"""Follow-through pages: the user's notifications and e-mail choice, the deputy mayor's printable briefing, the
"what did Operations do" report with its CSV export, and the SLA policy."""

import csv
import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from indicators.models import Agency, CheckRunMode, Portfolio
from indicators.roles import Role
from indicators.selectors import check_default_as_of

from .. import charts, reports, selectors
from ..errors import DomainError
from ..models import EmailMode, SlaPolicy
from ..services import notifications, sla_policy_update
from ..services.checks import CheckRunBusy, check_run_start
from ..signals import signal_summary
from .common import has_role, paginate


class EmailModeForm(forms.Form):
    email_mode = forms.ChoiceField(choices=EmailMode.choices, widget=forms.RadioSelect, label="E-mail me")


@login_required
def notification_list(request):
    if request.method == "POST":
        if "email_mode" in request.POST:
            form = EmailModeForm(request.POST)
            if form.is_valid():
                notifications.notification_preference_set(user=request.user, email_mode=form.cleaned_data["email_mode"])
                messages.success(request, "Your e-mail choice is saved.")
        else:
            count = notifications.notifications_mark_read(user=request.user)
            messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
        return redirect("notification_list")
    page = paginate(request, selectors.notifications_of(request.user), 50)
    form = EmailModeForm(initial={"email_mode": selectors.email_mode_of(request.user)})
    return render(request, "escalations/notifications.html", {"page": page, "form": form})


def briefing_since(request) -> dt.datetime:
    """Decisions "since the last briefing": the last seven days unless ``?since=YYYY-MM-DD`` says otherwise."""
    try:
        day = dt.date.fromisoformat(request.GET.get("since", ""))
    except ValueError:
        return timezone.now() - dt.timedelta(days=7)
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_current_timezone())


def briefing_portfolio(user, code: str) -> Portfolio:
    """The portfolio whose briefing ``user`` may read: their own (deputy mayor's office), or any for ops leads,
    auditors and admins. Anything else does not exist for them."""
    portfolio = Portfolio.objects.filter(code=code).first()
    allowed = has_role(user, Role.OPS_LEAD, Role.AUDITOR, Role.ADMIN) or (
        portfolio is not None and user.portfolios.filter(pk=portfolio.pk).exists()
    )
    if portfolio is None or not allowed:
        raise Http404("No such briefing.")
    return portfolio


@login_required
def briefing(request, code: str):
    portfolio = briefing_portfolio(request.user, code)
    since = briefing_since(request)
    briefing = reports.briefing_for(user=request.user, portfolio=portfolio, since=since)
    items = []
    for item in briefing.awaiting:
        flag = item.escalation.flag
        chart, band = charts.case_chart(flag=flag, measurements=item.series)
        items.append(
            {
                "escalation": item.escalation,
                "flag": flag,
                "indicator": flag.indicator,
                "band": band,
                "chart": chart,
                "intelligence": item.intelligence,
            }
        )
    return render(request, "escalations/briefing.html", {"briefing": briefing, "items": items})


class ReportForm(forms.Form):
    portfolio = forms.ModelChoiceField(
        Portfolio.objects.all(), required=False, to_field_name="code", empty_label="Any portfolio"
    )
    agency = forms.ModelChoiceField(
        Agency.objects.all(), required=False, to_field_name="code", empty_label="Any agency"
    )
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["start"] = data.get("start") or today - dt.timedelta(days=365)
        data["end"] = data.get("end") or today
        if data["end"] < data["start"]:
            raise forms.ValidationError("The end date is before the start date.")
        return data


CSV_HEADER = [
    "case", "indicator_id", "indicator", "agency", "signals", "severity", "detected_at", "status", "closed_how",
    "actions", "last_action_by", "last_action_at", "baseline", "value", "value_after", "recovered",
]  # fmt: skip


@login_required
def operations_report(request):
    """Every flag raised for an agency or portfolio over a period, how it was closed, who acted when, and
    whether the indicator recovered. ``?format=csv`` downloads the same rows."""
    form = ReportForm(request.GET or None)
    stories = []
    if form.is_valid():
        data = form.cleaned_data
        flags = reports.flags_raised(
            user=request.user,
            start=data["start"],
            end=data["end"],
            agencies=[data["agency"]] if data["agency"] else None,
            portfolio=data["portfolio"],
        )
        stories = reports.operations_history(user=request.user, flags=flags)
        if request.GET.get("format") == "csv":
            return _report_csv(stories)
    return render(request, "escalations/operations_report.html", {"form": form, "stories": stories})


def _report_csv(stories) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="what-operations-did.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for story in stories:
        flag, last, lead = story.flag, (story.events[-1] if story.events else None), story.lead
        writer.writerow(
            [
                flag.pk,
                flag.indicator.external_id,
                flag.indicator.name,
                flag.indicator.agency.code,
                "; ".join(signal_summary(s) for s in flag.signals.all()) or "raised by a person",
                flag.severity,
                flag.detected_at.isoformat(),
                flag.status,
                story.closed_how,
                len(story.events),
                last.actor_name if last else "",
                last.occurred_at.isoformat() if last else "",
                lead.baseline if lead else "",
                lead.value if lead else "",
                story.value_after,
                {True: "yes", False: "no", None: ""}[story.recovered],
            ]  # fmt: skip
        )
    return response


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = ["review_days_red", "review_days_yellow", "decision_days", "lead_grace_days"]


@login_required
def sla_policy(request):
    if not has_role(request.user, Role.OPS_LEAD, Role.ADMIN, Role.AUDITOR):
        raise PermissionDenied("This page is for the operations team.")
    policy = SlaPolicy.current()
    form = SlaPolicyForm(request.POST or None, instance=policy)
    if request.method == "POST" and form.is_valid():
        try:
            sla_policy_update(actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "SLA policy saved; it applies to deadlines set from now on.")
            return redirect("sla_policy")
    can_edit = has_role(request.user, Role.OPS_LEAD, Role.ADMIN)
    return render(request, "escalations/sla_policy.html", {"form": form, "can_edit": can_edit})


@login_required
@require_POST
def check_run_start_view(request):
    """The check-run page's "run now" button (the page itself is the indicators app's)."""
    if not has_role(request.user, Role.OPS_LEAD, Role.ADMIN):
        raise PermissionDenied("Only ops leads and administrators start checks.")
    try:
        as_of = dt.date.fromisoformat(request.POST["as_of"]) if request.POST.get("as_of") else None
    except ValueError:
        messages.error(request, "The as-of date is not a date (YYYY-MM-DD).")
        return redirect("checkrun_list")
    as_of = as_of or check_default_as_of().date
    mode = CheckRunMode.FULL if request.POST.get("full") else CheckRunMode.INCREMENTAL
    try:
        run = check_run_start(mode=mode, as_of=as_of, requested_by=request.user).run
    except CheckRunBusy as busy:
        messages.error(request, str(busy))
    else:
        messages.success(
            request,
            f"Check run #{run.pk} ({run.get_mode_display().lower()}, as of {as_of}): {run.get_status_display().lower()}"
            f", {run.indicators_evaluated} indicators evaluated, {run.flags_opened} cases opened, "
            f"{run.flags_updated} updated, {run.flags_recovered} with cleared signals.",
        )
    return redirect("checkrun_list")
