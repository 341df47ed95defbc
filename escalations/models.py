"""What happens to a problem: flags and their notes, escalations to a deputy mayor's office, projects and
their milestones, and the append-only action history (``Event``).

No workflow logic lives here: every change goes through ``escalations.services``."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from indicators.models import Agency, Indicator, MeasureUnit, Portfolio, ThresholdRule

from .lifecycle import OPEN_STATUSES, DismissReason, FlagStatus, NoteKind, ProjectStatus, Severity, Urgency


class FlagOrigin(models.TextChoices):
    AUTOMATED = "automated", "Automated check"
    MANUAL = "manual", "Raised by a person"


class FlagCategory(models.TextChoices):
    PERFORMANCE = "performance", "Performance"
    DATA_QUALITY = "data_quality", "Data quality"


class Project(models.Model):
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_projects"
    )
    status = models.CharField(max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.PROPOSED)
    agencies = models.ManyToManyField(Agency, blank=True, related_name="projects")
    start_date = models.DateField(null=True, blank=True)
    target_date = models.DateField(null=True, blank=True)
    outcome = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ProjectStatus.values), name="project_status_valid")
        ]

    def __str__(self) -> str:
        return self.title


class Milestone(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=300)
    due = models.DateField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_milestones",
        help_text="Who sees the milestone through (optional).",
    )

    class Meta:
        ordering = ["due", "id"]

    def __str__(self) -> str:
        return self.title


class Flag(models.Model):
    """The case a person works: one per indicator and category while open. Each rule that breaches is a
    ``Signal`` of the case; the case's severity is its worst active signal unless a person pinned it."""

    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="flags")
    origin = models.CharField(max_length=16, choices=FlagOrigin.choices, default=FlagOrigin.AUTOMATED)
    category = models.CharField(max_length=16, choices=FlagCategory.choices, default=FlagCategory.PERFORMANCE)
    summary = models.TextField(blank=True)
    # A case raised by hand names what it is about here (a detected case: in its signals, one per rule).
    period = models.DateField(null=True, blank=True, help_text="Raised by hand: the period the case is about.")
    value = models.DecimalField(
        max_digits=20, decimal_places=6, null=True, blank=True, help_text="Raised by hand: the value it is about."
    )
    severity = models.CharField(max_length=8, choices=Severity.choices)
    severity_pinned = models.BooleanField(default=False, help_text="Set by a person; redetection leaves it alone.")
    # How far the worst active signal lies beyond its yellow threshold, as a multiple of it (1 = at the
    # threshold, capped at 10): one of the terms of the case's priority (see ``priority.py``).
    beyond = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    status = models.CharField(max_length=16, choices=FlagStatus.choices, default=FlagStatus.DETECTED)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_flags"
    )
    detected_at = models.DateTimeField()
    recovered_at = models.DateTimeField(null=True, blank=True, help_text="When every signal of the case cleared.")
    due_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    monitor_until = models.DateField(null=True, blank=True)
    dismiss_reason = models.CharField(max_length=32, choices=DismissReason.choices, blank=True)
    resolution = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    previous_flag = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="regressions"
    )
    reraise_reason = models.TextField(blank=True, help_text="Why a closed case came back as this one, in words.")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="flags")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            # One case per indicator and category: detection upserts against this index.
            models.UniqueConstraint(
                fields=["indicator", "category"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="flag_one_open_case_per_indicator_category",
            ),
            models.CheckConstraint(condition=models.Q(status__in=FlagStatus.values), name="flag_status_valid"),
            models.CheckConstraint(condition=models.Q(severity__in=Severity.values), name="flag_severity_valid"),
        ]
        indexes = [
            # The triage queue: open flags by status, then severity and age.
            models.Index(fields=["status", "severity", "detected_at"], name="flag_queue_idx"),
            models.Index(fields=["indicator", "status"], name="flag_indicator_status_idx"),
            models.Index(fields=["assignee", "status"], name="flag_assignee_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Case #{self.pk} {self.indicator_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        """Open and past its current step's deadline — from that moment on, before the SLA job has marked it
        (``overdue_at``) and told anyone, so that the queue never shows a late case as on time."""
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()

    @property
    def lead_signal(self) -> "Signal | None":
        """The signal a list shows first: the worst active one (severity, then how far beyond its threshold),
        else the latest cleared one. Reads ``signals`` (prefetched by the selectors)."""
        signals = list(self.signals.all())
        if not signals:
            return None
        return max(signals, key=Signal.rank)

    @property
    def active_signals(self) -> list["Signal"]:
        return sorted((s for s in self.signals.all() if s.cleared_at is None), key=Signal.rank, reverse=True)


class Signal(models.Model):
    """One rule's breach within a case: what the check measured, in the rule kind's own unit. While the case
    is worked the signal follows the data; once the case is closed (or monitored) it stays as the decision saw
    it, which is what a later check compares with before re-raising anything."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="signals")
    rule = models.ForeignKey(ThresholdRule, on_delete=models.PROTECT, related_name="signals")
    period = models.DateField()
    value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    baseline = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    change = models.DecimalField(
        max_digits=20, decimal_places=6, null=True, blank=True, help_text="(value − baseline) / |baseline|."
    )
    measure = models.DecimalField(
        max_digits=20, decimal_places=6, null=True, blank=True, help_text="How far beyond, in ``unit``."
    )
    unit = models.CharField(max_length=8, choices=MeasureUnit.choices, blank=True)
    yellow = models.DecimalField(
        max_digits=20, decimal_places=6, null=True, blank=True, help_text="The yellow threshold that applied."
    )
    red = models.DecimalField(
        max_digits=20, decimal_places=6, null=True, blank=True, help_text="The red threshold that applied."
    )
    severity = models.CharField(max_length=8, choices=Severity.choices)
    preliminary = models.BooleanField(default=False, help_text="The value is preliminary (e.g. a PMMR figure).")
    first_seen_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["flag", "id"]
        constraints = [
            models.UniqueConstraint(fields=["flag", "rule"], name="signal_one_per_case_and_rule"),
            models.CheckConstraint(condition=models.Q(severity__in=Severity.values), name="signal_severity_valid"),
        ]
        indexes = [models.Index(fields=["rule", "cleared_at"], name="signal_rule_active_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id} on case #{self.flag_id} ({self.severity})"

    @property
    def kind(self) -> str:
        return self.rule.kind

    @staticmethod
    def rank(signal: "Signal") -> tuple:
        active = signal.cleared_at is None
        return (active, active and signal.severity == Severity.RED, signal.measure_ratio, signal.period, signal.pk or 0)

    @property
    def measure_ratio(self) -> float:
        """The measure as a multiple of its yellow threshold (0 when there is none)."""
        if self.measure is None:
            return 0.0
        if not self.yellow:
            return 10.0 if self.measure > 0 else 0.0
        return min(10.0, float(self.measure / self.yellow))


class Note(models.Model):
    """A remark on a flag. Notes are never edited or deleted."""

    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=NoteKind.choices, default=NoteKind.NOTE)
    body = models.TextField()
    source = models.CharField(max_length=300, blank=True, help_text='e.g. "call with DSNY chief of staff"')
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on flag #{self.flag_id}"


class Decision(models.TextChoices):
    AGENCY_MANAGED = "agency_managed", "Handled with the agency"
    PROJECT = "project", "Made a project"
    RETURNED = "returned", "Returned for more information"


class Escalation(models.Model):
    flag = models.ForeignKey(Flag, on_delete=models.CASCADE, related_name="escalations")
    portfolio = models.ForeignKey(
        Portfolio, null=True, blank=True, on_delete=models.PROTECT, related_name="escalations"
    )
    escalated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    escalated_at = models.DateTimeField()
    summary = models.TextField()
    agency_intelligence = models.TextField(blank=True)
    recommendation = models.TextField()
    urgency = models.CharField(max_length=16, choices=Urgency.choices, default=Urgency.ROUTINE)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-escalated_at"]
        indexes = [models.Index(fields=["portfolio", "decision"], name="escalation_inbox_idx")]

    def __str__(self) -> str:
        return f"Escalation of flag #{self.flag_id}"


class Event(models.Model):
    """The action history: append-only, each row hashed together with the previous row's hash so that any
    later change to a stored event breaks the chain (``manage.py verify_audit``)."""

    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=100, blank=True, help_text="Who acted when no user did.")
    verb = models.CharField(max_length=64, db_index=True)
    flag = models.ForeignKey(Flag, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    indicator = models.ForeignKey(Indicator, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    data = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["occurred_at"], name="event_occurred_idx")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.verb}"

    @property
    def actor_name(self) -> str:
        return self.actor.get_username() if self.actor is not None else self.actor_label or "system"


class AuditCheckpoint(models.Model):
    """A recorded head of the audit chain: the last event's id and hash and how many events led to it, signed
    (``audit_trail.checkpoint_signature``). The chain must always reach every checkpoint, which is what makes
    a cut tail visible: the remaining events still link up, but no longer reach the recorded head.

    A checkpoint is a record *about* the chain, not a change of data, so writing one writes no ``Event`` (an
    event would move the head it records). Append-only like the events: on PostgreSQL a trigger refuses
    ``UPDATE`` and ``DELETE``. ``last_event_id`` is a plain number, not a foreign key, so that a checkpoint
    outlives the event it names and can report it missing."""

    created_at = models.DateTimeField()
    source = models.CharField(max_length=32, help_text="What wrote it: the nightly verification, an export.")
    last_event_id = models.BigIntegerField(null=True, blank=True, help_text="Empty when the chain was empty.")
    head_hash = models.CharField(max_length=64)
    event_count = models.PositiveBigIntegerField()
    signature = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} checkpoint at event #{self.last_event_id}"


class SlaPolicy(models.Model):
    """How long each step may take, in business days on New York City's calendar. One row; ops leads edit
    it. Without a row the defaults apply."""

    review_days_red = models.PositiveSmallIntegerField(
        default=2, help_text="Business days to start reviewing a red flag."
    )
    review_days_yellow = models.PositiveSmallIntegerField(
        default=5, help_text="Business days to start reviewing a yellow flag."
    )
    decision_days = models.PositiveSmallIntegerField(
        default=5, help_text="Business days for a deputy mayor's decision."
    )
    lead_grace_days = models.PositiveSmallIntegerField(
        default=1, help_text="Business days an overdue flag may sit untouched before the ops leads hear of it."
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SLA policy"
        verbose_name_plural = "SLA policy"

    def __str__(self) -> str:
        return "SLA policy"

    @classmethod
    def current(cls) -> "SlaPolicy":
        return cls.objects.order_by("pk").first() or cls()


class Closure(models.Model):
    """A local closure (a snow day, a city-declared holiday) that does not count as a business day."""

    date = models.DateField(unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", "An e-mail for each notification"
    DIGEST = "digest", "One daily digest"
    DIGEST_RED = "digest_red", "One daily digest of red cases only"
    NONE = "none", "No e-mail (in the app only)"


class NotificationPreference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_mode = models.CharField(max_length=16, choices=EmailMode.choices, default=EmailMode.IMMEDIATE)

    def __str__(self) -> str:
        return f"{self.user}: {self.get_email_mode_display()}"


class Notification(models.Model):
    """One user told of one event, for one reason. The unique constraint makes creating it idempotent (a
    retried or twice-delivered task adds nothing); ``emailed_at`` is the claim column that makes the e-mail go
    out once: whoever sets it from NULL sends it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="notifications")
    reason = models.CharField(max_length=32, default="event")
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "event", "reason"], name="notification_once_per_user_event_reason")
        ]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self) -> str:
        return f"{self.user}: {self.title}"


class OutboxKind(models.TextChoices):
    NOTIFY = "notify", "Notify of events"
    EMAIL = "email", "E-mail a notification"
    DIGEST = "digest", "E-mail a daily digest"
    CHECK_SHARD = "check_shard", "Run a check shard"


class OutboxMessage(models.Model):
    """A side effect owed by a committed change: written in the same transaction as the change, delivered by
    the dispatcher (``escalations.services.outbox``). A message is ``delivered_at`` once it went out, retried
    with backoff while it fails (``attempts``, ``next_attempt_at``, ``last_error``), and ``failed_at`` once it
    ran out of attempts: it stays so, visible in the admin and counted on ``/healthz``.

    ``key`` is set for messages that must exist once (one e-mail per notification, one digest per user and
    day): the unique constraint turns a second write into nothing."""

    kind = models.CharField(max_length=16, choices=OutboxKind.choices)
    payload = models.JSONField(default=dict)
    key = models.CharField(max_length=100, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            # The dispatcher's "what is due?" and /healthz's counts read only the undelivered rows (waiting or
            # failed, few): the delivered ones pile up and stay out of this index.
            models.Index(
                fields=["next_attempt_at"], condition=models.Q(delivered_at__isnull=True), name="outbox_undelivered_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def state(self) -> str:
        if self.delivered_at is not None:
            return "delivered"
        return "failed" if self.failed_at is not None else "waiting"


class SavedView(models.Model):
    """A person's named view of the triage queue (its query string: filters and sort), picked from a list on
    the queue. Their own preference, like their read marks: not an audited change."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=100)
    query = models.CharField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_once_per_user")]

    def __str__(self) -> str:
        return f"{self.user}: {self.name}"
