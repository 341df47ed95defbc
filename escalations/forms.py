"""The pages' forms: one per action of the transition tables (built from the row's inputs), the bulk action
of the triage queue, projects, and the small forms of the follow-through pages. The lists' filters are
``filters.py``. Forms only parse and validate; the services decide, and ``core.forms.show_domain_error``
puts a refusal back on the form."""

import datetime as dt
from typing import TypedDict, cast

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils import timezone

from indicators.models import Agency, Indicator, Portfolio

from . import selectors
from .access import actions_ever_allowed
from .lifecycle import (
    PROJECT_TRANSITIONS,
    RAISE_INPUTS,
    TRANSITIONS,
    Action,
    Input,
    InputKind,
    ProjectAction,
    Transition,
)
from .models import EmailMode, Project, SlaPolicy


def text(
    label: str, *, required: bool = True, rows: int = 3, help_text: str = "", max_length: int | None = None
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        max_length=max_length,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class DateInput(forms.DateInput):
    input_type = "date"


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user) -> str:
        full = user.get_full_name()
        return f"{full} ({user.username})" if full else user.username


class _ListChoiceIterator(ModelChoiceIterator):
    """Choices from objects read once for a whole page, so that many forms with the same select do not cost
    a query each (validation still goes through the field's queryset). The objects are the field's
    ``shared_objects``, set by ``share_choices``: an attribute of ours, which Django's field type does not
    declare (hence ``getattr``)."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in getattr(self.field, "shared_objects"):  # noqa: B009
            yield self.choice(obj)

    def __len__(self) -> int:
        return len(getattr(self.field, "shared_objects")) + (self.field.empty_label is not None)  # noqa: B009


def share_choices(field: forms.ModelChoiceField, objects: list) -> None:
    setattr(field, "shared_objects", objects)  # noqa: B010 (read by _ListChoiceIterator)
    field.iterator = _ListChoiceIterator
    field.widget.choices = field.choices


class ActionForm(forms.Form):
    """Base of the action forms, whose fields come from the action's row of a transition table
    (``action_form``): built for one flag (``None`` in a bulk form) and one acting user. ``shared`` maps a
    field name to its choices read once for a page showing many forms."""

    action: str
    transition: Transition

    def __init__(self, *args, flag=None, user=None, shared=None, url="", **kwargs):
        kwargs.setdefault("prefix", self.action)
        super().__init__(*args, **kwargs)
        self.flag, self.user, self.url = flag, user, url  # ``url``: where the page posts it
        self.shared = shared or {}
        agency = flag.indicator.agency if flag is not None else None
        for spec in self.transition.inputs:
            if spec.kind == InputKind.USER:
                self._choices(spec.name, selectors.users_qualifying(spec.users, agency))
            elif spec.kind == InputKind.PROJECT:
                self._choices(spec.name, selectors.open_projects(user))
            elif spec.kind == InputKind.AGENCIES:
                self._choices(spec.name, selectors.agencies_all())

    @property
    def label(self) -> str:
        return self.transition.label

    def _choices(self, name: str, queryset) -> None:
        field = cast(forms.ModelChoiceField, self.fields[name])  # a USER, PROJECT or AGENCIES input's field
        field.queryset = queryset
        if name in self.shared:
            share_choices(field, self.shared[name])

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class _Common(TypedDict):
    """The arguments every input's form field takes."""

    label: str
    required: bool
    help_text: str


def _form_field(spec: Input) -> forms.Field:
    """The form field of one input of a transition table."""
    common: _Common = {"label": spec.label, "required": spec.required, "help_text": spec.help_text}
    if spec.kind == InputKind.PARAGRAPH:
        return text(
            spec.label, required=spec.required, rows=spec.rows, help_text=spec.help_text, max_length=spec.max_length
        )
    if spec.kind == InputKind.TEXT:
        return forms.CharField(max_length=spec.max_length, **common)
    if spec.kind == InputKind.CHOICE:
        # A required choice starts empty ("Choose a reason") rather than on its first option, so that nobody
        # dismisses a case as a data error by leaving the select alone; an optional one starts on its default.
        if spec.default:
            blank = []
        elif spec.required:
            blank = [("", f"Choose a {spec.label.lower()}")]
        else:
            blank = [("", "—")]
        return forms.ChoiceField(choices=[*blank, *spec.choice_class.choices], initial=spec.default or None, **common)
    if spec.kind in (InputKind.FUTURE_DATE, InputKind.PERIOD):
        return forms.DateField(widget=DateInput, **common)
    if spec.kind == InputKind.NUMBER:
        number = forms.NumberInput(attrs={"step": "any"})
        return forms.DecimalField(max_digits=20, decimal_places=6, widget=number, **common)
    if spec.kind == InputKind.USER:
        return UserChoiceField(queryset=None, empty_label="—", **common)
    if spec.kind == InputKind.PROJECT:
        return forms.ModelChoiceField(queryset=None, empty_label="— none: a new project —", **common)
    return forms.ModelMultipleChoiceField(queryset=None, to_field_name="code", **common)


def action_form(transition: Transition) -> type[ActionForm]:
    """The form class of one row of a transition table: one field per input, in the row's order."""
    fields = {spec.name: _form_field(spec) for spec in transition.inputs}
    name = "".join(part.title() for part in transition.action.split("_")) + "Form"
    return type(name, (ActionForm,), {"action": transition.action, "transition": transition, **fields})


ACTION_FORMS: dict[Action, type[ActionForm]] = {action: action_form(row) for action, row in TRANSITIONS.items()}
PROJECT_ACTION_FORMS: dict[ProjectAction, type[ActionForm]] = {
    action: action_form(row) for action, row in PROJECT_TRANSITIONS.items()
}


class BulkActionForm(forms.Form):
    """Several flags, one action: the action's own form (the same as on the flag page, without a flag) is
    filled beside the choice of action; each flag then goes through the action's service."""

    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), label="Cases")
    action = forms.ChoiceField(choices=())

    def __init__(self, *args, flag_ids=(), user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(pk, pk) for pk in flag_ids]
        offered = actions_ever_allowed(user)
        self.fields["action"].choices = [(action.value, action.label) for action in offered]
        # One sub-form per action; the page shows the chosen one's fields (all of them without JavaScript).
        # Only the chosen action's sub-form reads the submitted data: a refused submission shown again keeps
        # what was typed for that action, without "required" errors on every other action's fields. No
        # ``required`` attribute: the browser would refuse to submit because of the hidden actions' empty
        # fields; the server checks the chosen action's and shows the form again with what is missing.
        data = args[0] if args else None
        chosen = data.get("action") if data is not None else None
        self.action_forms = [
            ACTION_FORMS[action](
                data if action.value == chosen else None,
                user=user,
                prefix=f"bulk-{action.value}",
                auto_id="id_%s",
                use_required_attribute=False,
            )
            for action in offered
        ]

    def chosen(self) -> ActionForm | None:
        """The sub-form of the chosen action (valid form only)."""
        action = self.cleaned_data.get("action")
        return next((form for form in self.action_forms if form.action == action), None)

    def clean(self):
        data = super().clean()
        chosen = self.chosen() if data.get("action") else None
        if chosen is not None and not chosen.is_valid():
            for name, errors in chosen.errors.items():
                label = chosen.fields[name].label if name in chosen.fields else ""
                for error in errors:
                    self.add_error(None, f"{label}: {error}" if label else error)
        return data


# A case raised by hand, for what the thresholds do not catch.
RaiseFlagForm = type("RaiseFlagForm", (forms.Form,), {spec.name: _form_field(spec) for spec in RAISE_INPUTS})


class ProjectForm(forms.ModelForm):
    owner = UserChoiceField(queryset=None, required=False, label="Owner (project manager)")
    # A list of checkboxes, filtered as one types (static/js/percolate.js); without JavaScript, the whole list.
    agencies = forms.ModelMultipleChoiceField(
        queryset=Agency.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "pick-many"}),
        help_text="Type a few letters of the agency's code or name to narrow the list.",
    )

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
        self.fields["agencies"].label_from_instance = lambda agency: f"{agency.code} — {agency.name}"
        if self.instance.pk is None:
            del self.fields["outcome"]  # a new project has no outcome yet


class MilestoneForm(forms.Form):
    """A new milestone, or a milestone's changes (``initial`` its current values)."""

    title = forms.CharField(max_length=300)
    due = forms.DateField(required=False, widget=DateInput)
    owner = UserChoiceField(queryset=None, required=False, label="Owner", empty_label="Nobody yet")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = selectors.people_active()


class SavedViewForm(forms.Form):
    """Save the queue's current filters and sort under a name."""

    name = forms.CharField(max_length=100, label="Save this view as", help_text="For example “my red overdue”.")
    query = forms.CharField(widget=forms.HiddenInput, required=False)


class EmailModeForm(forms.Form):
    email_mode = forms.ChoiceField(choices=EmailMode.choices, widget=forms.RadioSelect, label="E-mail me")


class ReportForm(forms.Form):
    portfolio = forms.ModelChoiceField(
        Portfolio.objects.all(), required=False, to_field_name="code", empty_label="Any portfolio"
    )
    agency = forms.ModelChoiceField(
        Agency.objects.all(), required=False, to_field_name="code", empty_label="Any agency"
    )
    start = forms.DateField(required=False, widget=DateInput, label="From")
    end = forms.DateField(required=False, widget=DateInput, label="To")

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        data["start"] = data.get("start") or today - dt.timedelta(days=365)
        data["end"] = data.get("end") or today
        if data["end"] < data["start"]:
            raise forms.ValidationError("The end date is before the start date.")
        return data


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = ["review_days_red", "review_days_yellow", "decision_days", "lead_grace_days"]


class IndicatorMergeForm(forms.Form):
    """Which indicator of the same agency and frequency to merge into the page's (``indicator_merge``)."""

    merged = forms.ModelChoiceField(
        queryset=Indicator.objects.none(),
        label="Indicator to merge into this one",
        help_text="The same indicator under another ID (a file without IDs, another source). Its values, "
        "revisions, cases and rules move here; where both have a value for a period, this one's stays and the "
        "other is kept as a revision. It stays, inactive, pointing here.",
    )

    @classmethod
    def of(cls, indicator: Indicator, data=None) -> "IndicatorMergeForm":
        form = cls(data)
        field = cast(forms.ModelChoiceField, form.fields["merged"])
        field.queryset = selectors.indicators_mergeable_into(indicator)
        return form
