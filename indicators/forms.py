"""Forms of the operations pages (a threshold rule's settings, a file to import) and of the indicator page's
tolerance and public-impact weight. Forms only parse; the services validate and decide."""

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings

from . import selectors
from .detection.rules import RULE_PARAMS, THRESHOLD_UNITS, Param, param_problems
from .models import Agency, Indicator, Preliminary, RuleScope, ThresholdRule


def _indicator_named(text: str) -> Indicator:
    """An indicator by its MMR ID (or, failing that, its id), as the rules page names one."""
    indicator = selectors.indicator_by_external_id(text)
    if indicator is None and text.isdigit():
        indicator = Indicator.objects.filter(pk=int(text)).first()
    if indicator is None:
        raise forms.ValidationError(f"No indicator has the MMR ID (or id) “{text}”.")
    return indicator


class AgencyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, agency) -> str:
        return f"{agency.code} — {agency.name}"


def _param_field(param: Param) -> forms.Field:
    """The form field of one parameter of ``RULE_PARAMS``: its label and unit, its help, its bounds (checked by
    ``param_problems``, hinted to the browser), and blank for the kind's default."""
    unit = f" ({param.unit})" if param.unit else ""
    label = f"{param.label}{unit}"
    help_text = (
        f"{param.help[:1].upper()}{param.help[1:]}. From {param.minimum} to {param.maximum}; "
        f"blank: the default, {param.default}."
    )
    attrs = {"min": param.minimum, "max": param.maximum, "placeholder": param.default}
    if param.decimal:
        widget = forms.NumberInput(attrs={**attrs, "step": "any"})
        return forms.DecimalField(required=False, label=label, help_text=help_text, widget=widget)
    widget = forms.NumberInput(attrs={**attrs, "step": 1})
    return forms.IntegerField(required=False, label=label, help_text=help_text, widget=widget)


def _json_number(value: Decimal | int) -> int | float:
    """A parameter as the rule's JSON stores it: a whole number as an int."""
    return int(value) if value == int(value) else float(value)


class RuleForm(forms.Form):
    """A threshold rule's settings: thresholds in the kind's unit, every parameter of its kind as a field of
    its own (made from ``RULE_PARAMS``; assembled into ``params``), and where it applies (the agency or
    indicator the scope needs; the one the scope does not need is ignored). ``rule_save`` validates the whole
    (``rule_problems``); the form checks each parameter at its field."""

    name = forms.CharField(max_length=200)
    yellow = forms.DecimalField(max_digits=12, decimal_places=4, label="Yellow threshold")
    red = forms.DecimalField(max_digits=12, decimal_places=4, label="Red threshold")
    critical_factor = forms.DecimalField(
        max_digits=6,
        decimal_places=3,
        help_text="Thresholds are multiplied by this for critical indicators.",
    )
    scope = forms.ChoiceField(choices=RuleScope.choices, label="Applies to")
    agency = AgencyChoiceField(
        queryset=Agency.objects.order_by("code"),
        to_field_name="code",
        required=False,
        empty_label="—",
        help_text="For a rule that applies to one agency.",
    )
    indicator = forms.CharField(
        required=False,
        max_length=64,
        label="Indicator (MMR ID)",
        help_text="For a rule that applies to one indicator: its MMR ID (or its id).",
    )
    replaces_broader = forms.BooleanField(
        required=False,
        label="Replaces the broader rules of its kind",
        help_text="Where this rule applies, the city-wide (or critical-only) rules of its kind do not.",
    )
    preliminary = forms.ChoiceField(choices=Preliminary.choices, label="Preliminary values")
    active = forms.BooleanField(required=False)

    RULE_FIELDS = ("name", "yellow", "red", "critical_factor")
    SCOPE_FIELDS = ("scope", "agency", "indicator", "replaces_broader")

    def __init__(self, data=None, *, rule: ThresholdRule):
        stored = rule.params if isinstance(rule.params, dict) else {}
        self.rule, self.spec = rule, RULE_PARAMS.get(rule.kind, {})
        initial = {name: getattr(rule, name) for name in ("name", "yellow", "red", "critical_factor", "scope")}
        initial |= {name: getattr(rule, name) for name in ("replaces_broader", "preliminary", "active")}
        initial["agency"] = rule.agency.code if rule.agency is not None else None
        initial["indicator"] = rule.indicator.external_id if rule.indicator is not None else ""
        initial |= {f"param_{name}": stored.get(name) for name in self.spec}
        super().__init__(data, initial=initial)
        unit = THRESHOLD_UNITS.get(rule.kind, "")
        for name in ("yellow", "red"):
            if unit:
                self.fields[name].label = f"{self.fields[name].label} ({unit})"
        if unit == "%":
            self.fields["yellow"].help_text = "An indicator's tolerance, where one is set, replaces it."
        for name, param in self.spec.items():
            self.fields[f"param_{name}"] = _param_field(param)

    def _group(self, names):
        return [self[name] for name in names]

    @property
    def rule_fields(self):
        return self._group(self.RULE_FIELDS)

    @property
    def param_fields(self):
        return self._group(f"param_{name}" for name in self.spec)

    @property
    def scope_fields(self):
        return self._group(self.SCOPE_FIELDS)

    @property
    def other_fields(self):
        return self._group(("preliminary", "active"))

    def clean(self):
        data = super().clean()
        # The scope says which of agency and indicator counts; a value left in the other one (a page without
        # JavaScript shows both) is ignored.
        if data.get("scope") != RuleScope.AGENCY:
            data["agency"] = None
        if data.get("scope") != RuleScope.INDICATOR:
            data["indicator"] = None
        elif data.get("indicator"):
            try:
                data["indicator"] = _indicator_named(data["indicator"])
            except forms.ValidationError as error:
                self.add_error("indicator", error)
        else:
            data["indicator"] = None
        for name, problem in param_problems(self.rule.kind, self.params()).items():
            self.add_error(f"param_{name}", problem)
        return data

    def params(self) -> dict[str, int | float]:
        """The parameters entered (a blank one: the kind's default, left out), as the rule's JSON."""
        values = {name: self.cleaned_data.get(f"param_{name}") for name in self.spec}
        return {name: _json_number(value) for name, value in values.items() if value is not None}

    def changes(self) -> dict[str, Any]:
        """What differs from the rule as it stands, as ``rule_save`` and ``rule_preview`` take it."""
        data = self.cleaned_data
        names = ("name", "yellow", "red", "critical_factor", "scope", "agency", "indicator")
        wanted = {name: data[name] for name in (*names, "replaces_broader", "preliminary", "active")}
        wanted["params"] = self.params()
        current = {name: getattr(self.rule, name) for name in wanted}
        return {name: value for name, value in wanted.items() if value != current[name]}


class ImportForm(forms.Form):
    file = forms.FileField(
        help_text="Comptroller tidy CSV, MMR/PMMR extract, MMR long format, or indicator/period/value CSV/JSON."
    )
    format = forms.ChoiceField(
        required=False,
        choices=[("", "Detect from the file")],
        help_text="Leave on detect unless the file is ambiguous.",
    )

    def __init__(self, *args, formats=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = [("", "Detect from the file"), *formats]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.PERCOLATE_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(f"The file is larger than {limit // (1024 * 1024)} MB.")
        return upload


class IndicatorTuneForm(forms.Form):
    """An indicator's tolerance (with the reason for it) and public-impact weight, as ``indicator_tune`` takes
    them. The service checks them (``tune_problems``): a tolerance needs its rationale."""

    tolerance = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=9,
        decimal_places=4,
        label="Tolerance (%)",
        help_text="Replaces the yellow threshold of the change rules for this indicator, in percent. "
        "Blank: the rules' own thresholds.",
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    tolerance_rationale = forms.CharField(
        required=False,
        max_length=5000,
        label="Why this tolerance",
        help_text="Required with a tolerance: what makes this indicator move more (or less) than the rules expect.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    public_impact_weight = forms.TypedChoiceField(
        coerce=int,
        choices=[(n, f"{n}{' (ordinary)' if n == 1 else ' (severe)' if n == 5 else ''}") for n in range(1, 6)],
        label="Public impact",
        help_text="How much a slip matters to the public; it raises the priority of the indicator's cases.",
    )

    @classmethod
    def of(cls, indicator, data=None) -> "IndicatorTuneForm":
        """The form for ``indicator``, filled with its current values."""
        initial = {
            "tolerance": indicator.tolerance,
            "tolerance_rationale": indicator.tolerance_rationale,
            "public_impact_weight": indicator.public_impact_weight,
        }
        return cls(data, initial=initial, prefix="tune")
