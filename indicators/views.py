"""The operations pages of this app: threshold rules (list, and edit with a preview) and the import upload with its
row-level report. The operations team reads them; who may configure Percolate changes them. (The check-run
page is the escalations app's: a run opens cases.)"""

import re
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from core.errors import InvalidInput
from core.forms import show_domain_error, submit
from core.permissions import Capability, require

from . import importers, selectors
from .detection import indicators_per_rule, rules_applying
from .detection.preview import rule_preview
from .detection.rules import RULE_PARAMS, params_of, rule_problems
from .forms import ImportForm, RuleForm
from .models import ImportUploadStatus, ThresholdRule
from .services import (
    ImportConflict,
    ImportRejected,
    ImportUploadConflict,
    import_file,
    import_upload_queue,
    rule_save,
)
from .services.import_writer import import_summary


@login_required
def rule_list(request):
    """The rules with how many indicators each applies to; ``?indicator=`` (an MMR ID) marks the ones that apply
    to that indicator, as the check resolves scopes and replacing rules."""
    require(request.user, Capability.READ_OPERATIONS)
    rules = list(selectors.rules_all())
    applies = indicators_per_rule()
    for rule in rules:
        rule.applies_to = applies.get(rule.pk, 0)
        rule.params_text = _params_text(rule)
    wanted = request.GET.get("indicator", "").strip()[:64]
    indicator = selectors.indicator_by_external_id(wanted) if wanted else None
    applying = set(rules_applying(indicator.pk)) if indicator else set()
    context = {
        "rules": rules,
        "indicator": indicator,
        "indicator_query": wanted,
        "applying": applying,
    }
    return render(request, "indicators/rule_list.html", context)


def _params_text(rule: ThresholdRule) -> str:
    """A rule's parameters in words, defaults filled in: "Window 36 periods · σ for yellow 2 σ"."""
    values = params_of(rule.kind, rule.params)
    spec = RULE_PARAMS.get(rule.kind, {})
    return " · ".join(f"{param.label} {values.get(name)} {param.unit}".strip() for name, param in spec.items())


@login_required
def rule_edit(request, pk: int):
    """Edit a rule: thresholds, every parameter of its kind, where it applies. "Preview" shows how many
    indicators the changed rule would flag on current data before anything is saved."""
    require(request.user, Capability.CONFIGURE)  # 403 whatever was typed
    rule = get_object_or_404(selectors.rules_all(), pk=pk)
    form = RuleForm(request.POST or None, rule=rule)
    preview, status = None, 200
    if request.method == "POST" and "preview" in request.POST:
        status = 400
        if form.is_valid():
            changes = form.changes()
            problems = _problems_with(pk, changes)
            if problems:
                show_domain_error(form, InvalidInput(problems))
            else:
                preview, status = rule_preview(rule=ThresholdRule.objects.get(pk=pk), changes=changes), 200
    elif request.method == "POST":
        changed: list[str] = []

        def save() -> ThresholdRule:
            changes = form.changes()
            changed.extend(changes)
            stored = ThresholdRule.objects.get(pk=pk)
            return rule_save(rule=stored, actor=request.user, **changes) if changes else stored

        status, saved = submit(form, save)
        if saved is not None:
            messages.success(request, f"Rule saved ({', '.join(changed)} changed)." if changed else "Nothing changed.")
            return redirect("rule_list")
    context = {"form": form, "rule": rule, "preview": preview}
    return render(request, "indicators/rule_form.html", context, status=status)


def _problems_with(pk: int, changes: dict) -> dict[str, str]:
    """What ``rule_save`` would refuse in the rule with ``changes`` (the preview must not run a rule the
    database's constraints would refuse)."""
    candidate = ThresholdRule.objects.get(pk=pk)
    for name, value in changes.items():
        setattr(candidate, name, value)
    return rule_problems(candidate)


@login_required
def import_upload(request):
    require(request.user, Capability.CONFIGURE)
    formats = [(name, getattr(module, "LABEL", name)) for name, module in importers.FORMATS.items()]
    form = ImportForm(request.POST or None, request.FILES or None, formats=formats)
    report, status = None, 200
    if request.method == "POST" and form.is_valid():
        upload, file_format = form.cleaned_data["file"], form.cleaned_data["format"] or None
        try:
            if upload.size > _background_bytes():  # too large to import inside this request
                queued = import_upload_queue(
                    file_name=upload.name, content=upload, format=file_format, user=request.user
                )
                return redirect("import_upload_detail", pk=queued.pk)
            outcome = import_file(
                file_name=upload.name,
                content=upload,
                format=file_format,
                user=request.user,
                progress=_progress_to(request.POST.get("upload_id", "")),
            )
        except ImportRejected as rejected:
            report, status = _rejected_report(rejected.as_dict()), rejected.status_code
        except (ImportConflict, ImportUploadConflict) as conflict:  # the same file, imported or queued already
            show_domain_error(form, conflict)
            status = conflict.status_code
        else:
            report = {
                "rejected": False,
                "batch": outcome.batch,
                "duplicate": outcome.duplicate_of is not None,
                "counts": outcome.counts,
                "summary": outcome.summary,
                "warnings": [p.as_dict() for p in outcome.warnings],
            }
    batches = selectors.import_batches_recent()
    return render(
        request,
        "indicators/import_form.html",
        {
            "form": form,
            "report": report,
            "batches": batches,
            "uploads": selectors.import_uploads()[:10],
            "background_mb": f"{_background_bytes() / (1024 * 1024):g}",
            "upload_id": uuid.uuid4().hex,
        },
        status=status,
    )


def _progress_to(upload_id: str):
    """Where an import inside the request writes its progress, for the page's script to poll."""
    key = _progress_key(upload_id)

    def progress(done: int, total: int) -> None:
        if key:
            cache.set(key, {"done": done, "total": total}, PROGRESS_SECONDS)

    return progress


def _background_bytes() -> int:
    return settings.PERCOLATE_IMPORT_BACKGROUND_BYTES


def _rejected_report(refused: dict) -> dict:
    """What the import report shows of a refused file (``ImportRejected.as_dict``, stored or not)."""
    return {"rejected": True, "errors": refused.get("errors", []), "warnings": refused.get("warnings", [])}


@login_required
def import_upload_detail(request, pk: int):
    """A background import: its status and progress while it is queued or running (the page polls itself with
    htmx, or reloads by hand without JavaScript), then the same report as an import made inside the request."""
    require(request.user, Capability.CONFIGURE)
    upload = get_object_or_404(selectors.import_uploads(), pk=pk)
    done, total = selectors.import_upload_progress(upload)
    report = None
    if upload.status == ImportUploadStatus.DONE:
        report = {
            "rejected": False,
            "batch": upload.batch,
            "duplicate": upload.report.get("duplicate_of") is not None,
            "counts": upload.report.get("counts", {}),
            "summary": import_summary(upload.report.get("counts", {})),
            "warnings": upload.report.get("warnings", []),
        }
    elif upload.status == ImportUploadStatus.FAILED:
        report = _rejected_report(upload.report)
    return render(
        request,
        "indicators/import_upload.html",
        {"upload": upload, "done": done, "total": total, "report": report},
    )


PROGRESS_SECONDS = 3600
_UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")


def _progress_key(upload_id: str) -> str | None:
    """The cache key of one upload's progress; ``None`` for an id the page did not make."""
    return f"import-progress:{upload_id}" if _UPLOAD_ID.match(upload_id) else None


@login_required
def import_progress(request, upload_id: str):
    """How far the import of one upload has got (rows done of rows in the file), polled by the import page
    while its form is being processed."""
    require(request.user, Capability.CONFIGURE)
    key = _progress_key(upload_id)
    state = (cache.get(key) if key else None) or {"done": 0, "total": 0}
    return JsonResponse(state)
