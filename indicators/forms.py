"""Forms of the operations pages (a threshold rule's settings, a file to import) and of the indicator page's
tolerance and public-impact weight. Forms only parse; the services validate and decide."""

from django import forms
from django.conf import settings

from .detection.rules import RULE_PARAMS
from .models import ThresholdRule


class RuleForm(forms.ModelForm):
    class Meta:
        model = ThresholdRule
        fields = ["name", "yellow", "red", "params", "critical_factor", "replaces_broader", "preliminary", "active"]
        widgets = {"params": forms.Textarea(attrs={"rows": 2})}
        help_texts = {
            "yellow": "Percent for the change rules (unusual change included), σ multiples for control limits, "
            "periods for sustained, days for stale.",
            "critical_factor": "Thresholds are multiplied by this for critical indicators.",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        spec = RULE_PARAMS.get(self.instance.kind, {})
        self.fields["params"].help_text = (
            "JSON: " + "; ".join(f"{name}: {p.help} (default {p.default})" for name, p in spec.items())
            if spec
            else "This kind takes no parameters: {}."
        )

    def clean(self):
        data = super().clean()
        yellow, red = data.get("yellow"), data.get("red")
        for name in ("yellow", "red", "critical_factor"):
            if data.get(name) is not None and data[name] < 0:
                self.add_error(name, "Must be zero or more.")
        if yellow is not None and red is not None and red < yellow:
            self.add_error("red", "Must not be below the yellow threshold.")
        if "params" in data and not isinstance(data.get("params"), dict):
            self.add_error("params", 'Must be a JSON object, e.g. {"n": 3}.')
        return data


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
