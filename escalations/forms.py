"""The pages' forms: one per action of the transition table (its required input, nothing more), the bulk
action of the triage queue, the filters, and projects. Forms only parse and validate; the services decide.
A service's ``InvalidInput`` is put back on the form's fields, any other ``DomainError`` above the form."""

from django import forms
from django.forms.models import ModelChoiceIterator

from indicators.models import Agency

from . import selectors
from .errors import DomainError, InvalidInput
from .lifecycle import TRANSITIONS, Action, DismissReason, Severity
from .models import FlagCategory, NoteKind, Project, ProjectStatus, Urgency


def text(label: str, *, required: bool = True, rows: int = 3, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, required=required, help_text=help_text, widget=forms.Textarea(attrs={"rows": rows})
    )


class DateInput(forms.DateInput):
    input_type = "date"


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        full = user.get_full_name()
        return f"{full} ({user.username})" if full else user.username


class _ListChoiceIterator(ModelChoiceIterator):
    """Choices from objects read once for a whole page, so that many forms with the same select do not cost
    a query each (validation still goes through the field's queryset)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.shared_objects:
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(self.field.shared_objects) + (self.field.empty_label is not None)


def share_choices(field: forms.ModelChoiceField, objects: list) -> None:
    field.shared_objects = objects
    field.iterator = _ListChoiceIterator
    field.widget.choices = field.choices


class ActionForm(forms.Form):
    """Base of the action forms: built for one flag and one acting user. ``shared`` maps a field name to
    its choices read once for a page showing many forms."""

    action: Action

    def __init__(self, *args, flag=None, user=None, shared=None, **kwargs):
        kwargs.setdefault("prefix", self.action.value)
        super().__init__(*args, **kwargs)
        self.flag, self.user = flag, user
        self.shared = shared or {}

    def _choices(self, name: str, queryset) -> None:
        self.fields[name].queryset = queryset
        if name in self.shared:
            share_choices(self.fields[name], self.shared[name])

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


def show_domain_error(form: forms.Form, error: DomainError) -> None:
    """Put a service's refusal on the form: field problems on their fields, the rest above the form."""
    if isinstance(error, InvalidInput):
        for name, problem in error.fields.items():
            form.add_error(name if name in form.fields else None, problem)
    else:
        form.add_error(None, error.message)


class ReviewForm(ActionForm):
    action = Action.REVIEW


class ResumeForm(ActionForm):
    action = Action.RESUME


class AssignForm(ActionForm):
    action = Action.ASSIGN
    assignee = UserChoiceField(queryset=None, label="Assign to")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = selectors.flag_workers(self.flag.indicator.agency)


class SetSeverityForm(ActionForm):
    action = Action.SET_SEVERITY
    severity = forms.ChoiceField(choices=Severity.choices)
    reason = text("Reason", help_text="Pins the severity: later detections no longer change it.")


class MonitorForm(ActionForm):
    action = Action.MONITOR
    until = forms.DateField(label="Monitor until", widget=DateInput, help_text="A date in the future.")
    reason = text("Reason")


class DismissForm(ActionForm):
    action = Action.DISMISS
    reason_code = forms.ChoiceField(label="Reason", choices=DismissReason.choices)
    note = text("Note")


class EscalateForm(ActionForm):
    action = Action.ESCALATE
    summary = text("Summary for the deputy mayor", rows=4)
    recommendation = text("Recommendation", help_text="For instance: make it a project; handle with the agency.")
    urgency = forms.ChoiceField(choices=Urgency.choices, initial=Urgency.ROUTINE)


class ReturnForm(ActionForm):
    action = Action.RETURN
    question = text("Question for the liaison")


class DelegateForm(ActionForm):
    action = Action.DELEGATE
    note = text("How the office will handle it with the agency")


class ConvertForm(ActionForm):
    action = Action.CONVERT
    project = forms.ModelChoiceField(
        queryset=None, required=False, label="Add to an existing project", empty_label="— no: a new project —"
    )
    title = forms.CharField(label="…or a new project's title", required=False, max_length=300)
    owner = UserChoiceField(
        queryset=None, required=False, label="Owner (project manager)", empty_label="— decide later —"
    )
    description = text("Description", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._choices("project", selectors.open_projects(self.user))
        self._choices("owner", selectors.project_managers())

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        if data["project"] is not None:
            # An existing project keeps its own owner and description.
            return {"project": data["project"], "title": data["title"]}
        return data


class ResolveForm(ActionForm):
    action = Action.RESOLVE
    resolution = text("Resolution")


class ReopenForm(ActionForm):
    action = Action.REOPEN
    reason = text("Reason")


class NoteForm(ActionForm):
    action = Action.NOTE
    kind = forms.ChoiceField(choices=NoteKind.choices, initial=NoteKind.AGENCY_INTEL)
    body = text("Text", rows=4)
    source = forms.CharField(
        required=False, max_length=300, help_text='Where it comes from, e.g. "call with DSNY chief of staff".'
    )


ACTION_FORMS: dict[Action, type[ActionForm]] = {
    form.action: form
    for form in (
        ReviewForm,
        AssignForm,
        SetSeverityForm,
        MonitorForm,
        ResumeForm,
        DismissForm,
        EscalateForm,
        ReturnForm,
        DelegateForm,
        ConvertForm,
        ResolveForm,
        ReopenForm,
        NoteForm,
    )
}


class BulkActionForm(forms.Form):
    """Several flags, one action, each flag through its own service call."""

    ACTIONS = [(a.value, a.label) for a in (Action.REVIEW, Action.ASSIGN, Action.DISMISS)]

    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Flags")
    action = forms.ChoiceField(choices=ACTIONS)
    assignee = UserChoiceField(queryset=None, required=False, label="Assign to")
    reason_code = forms.ChoiceField(label="Dismiss reason", choices=[("", "—"), *DismissReason.choices], required=False)
    note = forms.CharField(label="Dismiss note", required=False, max_length=2000)

    def __init__(self, *args, flag_ids=(), roles=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(pk, pk) for pk in flag_ids]
        self.fields["assignee"].queryset = selectors.assignable_users()
        if roles is not None:
            # Offer only the actions the transition table gives one of the user's roles (from some status).
            self.fields["action"].choices = [
                (value, label)
                for value, label in self.ACTIONS
                if roles & frozenset().union(*TRANSITIONS[Action(value)].allowed.values())
            ]
            if Action.ASSIGN.value not in dict(self.fields["action"].choices):
                del self.fields["assignee"]
            if Action.DISMISS.value not in dict(self.fields["action"].choices):
                del self.fields["reason_code"], self.fields["note"]

    def clean(self):
        data = super().clean()
        if data.get("action") == Action.ASSIGN and not data.get("assignee"):
            self.add_error("assignee", "Choose whom to assign the flags to.")
        if data.get("action") == Action.DISMISS:
            if not data.get("reason_code"):
                self.add_error("reason_code", "Choose a reason to dismiss.")
            if not (data.get("note") or "").strip():
                self.add_error("note", "Say why the flags are dismissed.")
        return data

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            Action.REVIEW: {},
            Action.ASSIGN: {"assignee": data.get("assignee")},
            Action.DISMISS: {"reason_code": data.get("reason_code"), "note": data.get("note")},
        }[Action(data["action"])]


SORTS = {
    "priority": ("Priority", ["-priority", "detected_at"]),
    "severity": ("Severity, then oldest", ["severity", "detected_at"]),  # "red" < "yellow"
    "age": ("Oldest first", ["detected_at"]),
    "newest": ("Newest first", ["-detected_at"]),
    "agency": ("Agency", ["indicator__agency__name", "severity", "detected_at"]),
}


class QueueFilterForm(forms.Form):
    # Data-quality flags (reporting gaps, impossible values) are a queue of their own, out of the way of the
    # performance triage unless asked for.
    category = forms.ChoiceField(
        required=False,
        label="Queue",
        choices=[("", "Performance"), (FlagCategory.DATA_QUALITY, "Data quality"), ("all", "Both")],
    )
    status = forms.ChoiceField(required=False, choices=())
    severity = forms.ChoiceField(required=False, choices=[("", "Any"), *Severity.choices])
    portfolio = forms.ChoiceField(required=False, choices=())
    agency = forms.ChoiceField(required=False, choices=())
    rule = forms.ChoiceField(required=False, choices=())
    assignee = forms.ChoiceField(required=False, choices=[("", "Anyone"), ("me", "Me"), ("none", "Nobody")])
    critical = forms.BooleanField(required=False, label="Critical indicators only")
    sort = forms.ChoiceField(required=False, choices=[(key, label) for key, (label, _) in SORTS.items()])

    def __init__(self, *args, agencies=(), portfolios=(), rules=(), statuses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].choices = [("", "Any"), *((a.code, a.name) for a in agencies)]
        self.fields["portfolio"].choices = [("", "Any"), *((p.code, p.name) for p in portfolios)]
        self.fields["rule"].choices = [
            ("", "Any"),
            ("manual", "Raised by a person"),
            *((str(r.pk), r.name) for r in rules),
        ]
        self.fields["rule"].help_text = "Cases with an active signal of the rule."
        self.fields["status"].choices = [("", "Any open"), *statuses]


class DashboardFilterForm(forms.Form):
    portfolio = forms.ChoiceField(required=False, choices=())
    agency = forms.ChoiceField(required=False, choices=())
    critical = forms.BooleanField(required=False, label="Critical only")
    red = forms.BooleanField(required=False, label="Red only")

    def __init__(self, *args, portfolios=(), agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["portfolio"].choices = [("", "All portfolios"), *((p.code, p.name) for p in portfolios)]
        self.fields["agency"].choices = [("", "All agencies"), *((a.code, a.name) for a in agencies)]


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, label="Actor (username)")
    verb = forms.ChoiceField(required=False, choices=())
    agency = forms.ChoiceField(required=False, choices=())
    since = forms.DateField(required=False, widget=DateInput, label="From")
    until = forms.DateField(required=False, widget=DateInput, label="To")

    def __init__(self, *args, verbs=(), agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["verb"].choices = [("", "Any"), *verbs]
        self.fields["agency"].choices = [("", "Any"), *((a.code, a.name) for a in agencies)]

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", "Must not be before the start date.")
        return data


class RaiseFlagForm(forms.Form):
    """A flag raised by hand, for what the thresholds do not catch."""

    severity = forms.ChoiceField(choices=Severity.choices)
    summary = text("Why this needs attention", rows=3)


class ProjectForm(forms.ModelForm):
    owner = UserChoiceField(queryset=None, required=False, label="Owner (project manager)")
    agencies = forms.ModelMultipleChoiceField(queryset=Agency.objects.none(), required=False)

    class Meta:
        model = Project
        fields = ["title", "description", "owner", "agencies", "start_date", "target_date", "outcome"]
        widgets = {
            "start_date": DateInput,
            "target_date": DateInput,
            "description": forms.Textarea(attrs={"rows": 3}),
            "outcome": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.project_managers()
        self.fields["agencies"].queryset = selectors.agencies_all()
        self.fields["agencies"].widget.attrs["size"] = 8


class ProjectStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ProjectStatus.choices)
    outcome = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Required to complete the project."
    )


class MilestoneForm(forms.Form):
    title = forms.CharField(max_length=300)
    due = forms.DateField(required=False, widget=DateInput)
