"""What is measured: portfolios and agencies, indicators and their series, the threshold rules that say what
counts as a problem, and the records of check runs and imports."""

from django.conf import settings
from django.db import models

UNASSIGNED_AGENCY_CODE = "UNASSIGNED"


class Portfolio(models.Model):
    """A deputy mayor's portfolio: the agencies whose escalations one deputy mayor's office decides."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="portfolios")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agency(models.Model):
    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200, unique=True)
    budget_number = models.CharField(max_length=16, blank=True)
    portfolio = models.ForeignKey(Portfolio, null=True, blank=True, on_delete=models.SET_NULL, related_name="agencies")
    liaisons = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="agencies")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class AgencyAlias(models.Model):
    """Another name a file may give an agency ("3-1-1", "NYC Parks", an old name). ``key`` is the name's
    ``identity.normal_name``: unique, so one name never means two agencies. Written by ``agency_save`` only."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200)
    key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["agency", "name"]
        verbose_name_plural = "agency aliases"

    def __str__(self) -> str:
        return self.name


class Direction(models.TextChoices):
    UP = "up", "Up is better"
    DOWN = "down", "Down is better"
    NEUTRAL = "neutral", "Neutral"


class MeasurementType(models.TextChoices):
    NUMBER = "number", "Number"
    PERCENTAGE = "percentage", "Percentage"
    CURRENCY = "currency", "Currency"
    TIMESPAN = "timespan", "Time span"
    RATIO = "ratio", "Ratio"


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    FOUR_MONTH = "four_month", "Four-month (PMMR)"
    ANNUAL = "annual", "Annual (fiscal year)"


class TargetKind(models.TextChoices):
    NUMERIC = "numeric", "Numeric"
    UP = "up", "Directional: up"
    DOWN = "down", "Directional: down"
    TO_BE_DETERMINED = "tbd", "To be determined"
    NONE = "none", "None"


class Rag(models.TextChoices):
    """An indicator's colour: what the latest check measured (its worst breaching performance rule), whatever
    anybody decided about it. Blank until a check has looked at the indicator."""

    RED = "red", "Red"
    YELLOW = "yellow", "Yellow"
    GREEN = "green", "Green"


class Indicator(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="indicators")
    external_id = models.CharField(
        max_length=64, unique=True, help_text="The source's indicator ID (the MMR indicator ID)."
    )
    # False when no file gave the indicator an ID (an MMR wide extract's: ``external_id`` is derived from its
    # agency and name). A file that does give one for the same agency and name then gives it to this indicator.
    id_from_source = models.BooleanField(default=True)
    # Set by ``indicator_merge``: this indicator's series now lives in that one; imports naming this
    # indicator write there, and this one stays (inactive) because the audit trail names it.
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="breakouts")
    name = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    service = models.CharField(max_length=500, blank=True)
    goal = models.CharField(max_length=500, blank=True)
    unit = models.CharField(max_length=32, blank=True)
    measurement_type = models.CharField(max_length=16, choices=MeasurementType.choices, default=MeasurementType.NUMBER)
    frequency = models.CharField(max_length=16, choices=Frequency.choices, default=Frequency.ANNUAL)
    desired_direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.NEUTRAL)
    critical = models.BooleanField(default=False)
    target = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    target_kind = models.CharField(max_length=8, choices=TargetKind.choices, default=TargetKind.NONE)
    public_impact_weight = models.PositiveSmallIntegerField(
        default=1, help_text="How much a slip matters to the public (1 = ordinary, 5 = severe)."
    )
    tolerance = models.DecimalField(
        max_digits=9,
        decimal_places=4,
        null=True,
        blank=True,
        help_text="A liaison's tolerance in percent; replaces the rules' yellow threshold for this indicator.",
    )
    tolerance_rationale = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    # Set whenever a measurement is added or restated, or anything else the rules read changes (target,
    # direction, criticality, tolerance): the incremental check re-evaluates exactly the indicators whose data
    # changed after its previous successful run.
    data_changed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # The latest period with a value, kept by the importer with ``data_changed_at``: the checks read it instead
    # of looking it up in the measurements (they still do when it is later than the date of the check).
    reported_through = models.DateField(null=True, blank=True)
    # The first period with a value, and the first of the latest unbroken run of them (every period from it to
    # ``reported_through`` has a value): kept with ``reported_through`` (``services.series``). The check's gap
    # test reads them instead of counting the values of each window; it still counts where they are unknown or
    # do not decide.
    reported_from = models.DateField(null=True, blank=True)
    unbroken_since = models.DateField(null=True, blank=True)
    # Written by every check that evaluates the indicator's performance rules (not by people: dismissing a
    # case does not make an indicator green).
    rag = models.CharField("RAG status", max_length=8, choices=Rag.choices, blank=True, default="")
    rag_since = models.DateTimeField(null=True, blank=True, help_text="When a check last changed the colour.")

    class Meta:
        ordering = ["agency__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(desired_direction__in=Direction.values), name="indicator_direction_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(target_kind=TargetKind.NUMERIC, target__isnull=False)
                | ~models.Q(target_kind=TargetKind.NUMERIC),
                name="indicator_numeric_target_has_value",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.external_id} {self.name}"


class Measurement(models.Model):
    """One value of an indicator for one period (the period's start date)."""

    # No index of its own: measurement_one_per_period's begins with it.
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="measurements", db_index=False)
    period = models.DateField()
    value = models.DecimalField(max_digits=20, decimal_places=6)
    preliminary = models.BooleanField(default=False)
    batch = models.ForeignKey("ImportBatch", null=True, blank=True, on_delete=models.SET_NULL)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["indicator", "period"]
        constraints = [
            # On PostgreSQL its index also holds value and preliminary (migration 0014): the checks read an
            # indicator's window from the index alone.
            models.UniqueConstraint(fields=["indicator", "period"], name="measurement_one_per_period"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator_id} {self.period}: {self.value}"


class MeasurementRevision(models.Model):
    """The value a measurement had before a restatement replaced it."""

    measurement = models.ForeignKey(Measurement, on_delete=models.CASCADE, related_name="revisions")
    old_value = models.DecimalField(max_digits=20, decimal_places=6)
    new_value = models.DecimalField(max_digits=20, decimal_places=6)
    old_preliminary = models.BooleanField()
    batch = models.ForeignKey("ImportBatch", null=True, blank=True, on_delete=models.SET_NULL)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["measurement", "changed_at"]

    def __str__(self) -> str:
        return f"{self.measurement}: {self.old_value} → {self.new_value}"


class RuleKind(models.TextChoices):
    PERIOD_CHANGE = "period_change", "Period-over-period change"
    YEAR_OVER_YEAR = "year_over_year", "Year-over-year change"
    TARGET = "target", "Target missed"
    TREND_AVERAGE = "trend_average", "Worse than trend average"
    CONTROL_LIMIT = "control_limit", "Beyond control limits"
    SUSTAINED = "sustained", "Sustained decline"
    UNUSUAL_CHANGE = "unusual_change", "Unusual change"
    STALE = "stale", "Stale (reporting gap)"
    IMPOSSIBLE_VALUE = "impossible_value", "Impossible value"
    SAWTOOTH = "sawtooth", "Saw-tooth (cumulative reset)"


# Kinds that find problems with the data rather than with performance: their flags go to the data-quality
# queue, never to the performance triage queue. The one place the category is derived from.
DATA_QUALITY_KINDS = frozenset({RuleKind.STALE, RuleKind.IMPOSSIBLE_VALUE, RuleKind.SAWTOOTH})


class MeasureUnit(models.TextChoices):
    """The unit of a breach's measure: how far beyond its baseline, in the rule kind's own terms."""

    PERCENT = "percent", "%"
    SIGMA = "sigma", "σ"
    PERIODS = "periods", "periods"
    DAYS = "days", "days"


class Preliminary(models.TextChoices):
    """What a rule does with a preliminary latest value (the PMMR's 4-month figures, projected years)."""

    INCLUDE = "include", "Evaluate it like a final value"
    CAP = "cap", "Evaluate it, but at most yellow"
    SKIP = "skip", "Do not evaluate it"


class RuleScope(models.TextChoices):
    ALL = "all", "All indicators"
    AGENCY = "agency", "One agency"
    INDICATOR = "indicator", "One indicator"
    CRITICAL = "critical", "Critical indicators only"


class ThresholdRule(models.Model):
    """What counts as a problem. ``yellow``/``red`` are percentages for the change rules (period change, year
    over year, target, trend average, unusual change), multiples of σ for control limits, period counts for
    ``sustained`` and days past due for ``stale``."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=RuleKind.choices)
    yellow = models.DecimalField(max_digits=12, decimal_places=4)
    red = models.DecimalField(max_digits=12, decimal_places=4)
    params = models.JSONField(default=dict, blank=True)
    critical_factor = models.DecimalField(max_digits=6, decimal_places=3, default=0.5)
    scope = models.CharField(max_length=16, choices=RuleScope.choices, default=RuleScope.ALL)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    indicator = models.ForeignKey(Indicator, null=True, blank=True, on_delete=models.CASCADE, related_name="rules")
    replaces_broader = models.BooleanField(
        default=False,
        help_text="Where this rule applies, the broader rules of its kind do not (an agency's or an indicator's "
        "own version of a city-wide rule). Without it, every active rule applies.",
    )
    preliminary = models.CharField(
        "preliminary values",
        max_length=8,
        choices=Preliminary.choices,
        default=Preliminary.INCLUDE,
        help_text="What the rule does when the latest value is preliminary (a PMMR 4-month figure, a projection).",
    )
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=RuleKind.values), name="rule_kind_valid"),
            models.CheckConstraint(condition=models.Q(scope__in=RuleScope.values), name="rule_scope_valid"),
            models.CheckConstraint(
                condition=models.Q(preliminary__in=Preliminary.values), name="rule_preliminary_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(replaces_broader=False) | ~models.Q(scope=RuleScope.ALL),
                name="rule_replaces_only_when_scoped",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(scope=RuleScope.AGENCY, agency__isnull=False, indicator__isnull=True)
                    | models.Q(scope=RuleScope.INDICATOR, indicator__isnull=False, agency__isnull=True)
                    | models.Q(
                        scope__in=[RuleScope.ALL, RuleScope.CRITICAL], agency__isnull=True, indicator__isnull=True
                    )
                ),
                name="rule_scope_target_matches",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CheckRunMode(models.TextChoices):
    INCREMENTAL = "incremental", "Incremental"
    FULL = "full", "Full"


class CheckRunStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class CheckRunTrigger(models.TextChoices):
    NIGHTLY = "nightly", "Nightly schedule"
    MANUAL = "manual", "Started by a person"


class CheckRun(models.Model):
    """One check for a date (``as_of``) and mode. For the nightly schedule the (as_of, mode) pair is unique:
    it is the ledger that makes a second delivery of the nightly job a no-op. A run started by a person always
    runs (a rule edited this morning must count this morning)."""

    mode = models.CharField(max_length=16, choices=CheckRunMode.choices, default=CheckRunMode.INCREMENTAL)
    as_of = models.DateField()
    status = models.CharField(max_length=16, choices=CheckRunStatus.choices, default=CheckRunStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    shards_total = models.PositiveIntegerField(default=0)
    shards_done = models.PositiveIntegerField(default=0)
    indicators_evaluated = models.PositiveIntegerField(default=0)
    flags_opened = models.PositiveIntegerField(default=0)
    flags_updated = models.PositiveIntegerField(default=0)
    flags_recovered = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    trigger = models.CharField(max_length=16, choices=CheckRunTrigger.choices, default=CheckRunTrigger.MANUAL)
    # Incremental runs re-evaluate what changed at or after this moment (the start of the previous successful
    # run); None re-evaluates everything.
    changes_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["as_of", "mode"],
                condition=models.Q(trigger="nightly"),
                name="checkrun_one_nightly_per_as_of_mode",
            ),
            # Two runs never overlap: at most one row may be running at a time (the database refuses the second).
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="running"), name="checkrun_one_running"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_mode_display()} check as of {self.as_of} ({self.status})"

    @property
    def progress(self) -> float:
        """Share of shards done, 0 to 1."""
        return self.shards_done / self.shards_total if self.shards_total else 0.0


class CheckShardStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class CheckShard(models.Model):
    """One slice of a run: the indicators with ``lo_id <= id < hi_id``. A shard marks itself done in the
    same transaction as the flags it wrote, so a crash leaves it pending for redelivery, never half applied."""

    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="shards")
    number = models.PositiveIntegerField()
    lo_id = models.BigIntegerField()
    hi_id = models.BigIntegerField()
    # An incremental run whose date moved re-checks the date-dependent rules (stale) of every indicator: these
    # shards do that for the pairs that did not change, the others evaluate the pairs that changed.
    dated_only = models.BooleanField(default=False)
    status = models.CharField(max_length=16, choices=CheckShardStatus.choices, default=CheckShardStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    indicators_evaluated = models.PositiveIntegerField(default=0)
    flags_opened = models.PositiveIntegerField(default=0)
    flags_updated = models.PositiveIntegerField(default=0)
    flags_recovered = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["run", "number"]
        constraints = [models.UniqueConstraint(fields=["run", "number"], name="checkshard_unique_number")]
        # The sweeper looks for shards stuck in a status since a time.
        indexes = [models.Index(fields=["status", "started_at"], name="checkshard_sweep_idx")]

    def __str__(self) -> str:
        return f"Shard {self.number} of run #{self.run_id} ({self.status})"


class ImportBatch(models.Model):
    """One accepted import of a file. Rejected files write nothing, so every batch here was applied."""

    file_name = models.CharField(max_length=255)
    # Unique: the same file is imported once. Two uploads of it at the same moment meet here, and the one
    # that commits second is told which import won (``import_file``).
    sha256 = models.CharField(max_length=64, unique=True)
    format = models.CharField(max_length=32)
    rows_read = models.PositiveIntegerField(default=0)
    indicators_created = models.PositiveIntegerField(default=0)
    indicators_updated = models.PositiveIntegerField(default=0)
    # Indicators without an ID in the file found by agency and name among the existing ones.
    indicators_extended = models.PositiveIntegerField(default=0)
    measurements_created = models.PositiveIntegerField(default=0)
    measurements_restated = models.PositiveIntegerField(default=0)
    measurements_unchanged = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]
        verbose_name_plural = "import batches"

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"


class ImportUploadStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ImportUpload(models.Model):
    """A file too large to import inside a web request, waiting for (or imported by) a background task.

    The file's bytes are kept in the database rather than on a disk: every worker can read them, whichever
    machine it runs on, and they survive a restart; they are dropped once the import has finished. The report
    is what the synchronous import answers (``ImportOutcome.as_dict`` or ``ImportRejected.as_dict``)."""

    file_name = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField()
    format = models.CharField(max_length=32, blank=True)  # as asked for; blank: detected from the header
    content = models.BinaryField()  # the file, deflated (zlib); emptied once imported
    status = models.CharField(max_length=16, choices=ImportUploadStatus.choices, default=ImportUploadStatus.QUEUED)
    rows_done = models.PositiveIntegerField(default=0)
    rows_total = models.PositiveIntegerField(default=0)  # the file's line count: "about N rows"
    attempts = models.PositiveSmallIntegerField(default=0)  # runs started (a killed worker's run is retried)
    report = models.JSONField(default=dict, blank=True)
    batch = models.ForeignKey(ImportBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            # One waiting or running import per file: a second upload of it is told which one (409).
            models.UniqueConstraint(
                fields=["sha256"],
                condition=models.Q(status__in=["queued", "running"]),
                name="import_upload_one_pending_per_file",
            )
        ]
        indexes = [models.Index(fields=["status", "uploaded_at"], name="import_upload_status_idx")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (ImportUploadStatus.DONE, ImportUploadStatus.FAILED)
