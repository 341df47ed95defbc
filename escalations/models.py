"""What happens to a problem: flags and their notes, escalations to a deputy mayor's office, projects and
their milestones, and the append-only action history (``Event``).

No workflow logic lives here: every change goes through ``escalations.services``."""

from django.conf import settings
from django.db import models

from indicators.models import Agency, Indicator, Portfolio, ThresholdRule

from .lifecycle import OPEN_STATUSES, DismissReason, FlagStatus, Severity


class FlagOrigin(models.TextChoices):
    AUTOMATED = "automated", "Automated check"
    MANUAL = "manual", "Raised by a person"


class FlagCategory(models.TextChoices):
    PERFORMANCE = "performance", "Performance"
    DATA_QUALITY = "data_quality", "Data quality"


class ProjectStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


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

    class Meta:
        ordering = ["due", "id"]

    def __str__(self) -> str:
        return self.title


class Flag(models.Model):
    indicator = models.ForeignKey(Indicator, on_delete=models.PROTECT, related_name="flags")
    rule = models.ForeignKey(ThresholdRule, null=True, blank=True, on_delete=models.PROTECT, related_name="flags")
    origin = models.CharField(max_length=16, choices=FlagOrigin.choices, default=FlagOrigin.AUTOMATED)
    category = models.CharField(max_length=16, choices=FlagCategory.choices, default=FlagCategory.PERFORMANCE)
    summary = models.TextField(blank=True)
    period = models.DateField(null=True, blank=True)
    value = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    baseline = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    change = models.DecimalField(
        max_digits=20,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="Relative change, (value − baseline) / |baseline|.",
    )
    worse_by = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    severity = models.CharField(max_length=8, choices=Severity.choices)
    severity_pinned = models.BooleanField(default=False, help_text="Set by a person; redetection leaves it alone.")
    status = models.CharField(max_length=16, choices=FlagStatus.choices, default=FlagStatus.DETECTED)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_flags"
    )
    detected_at = models.DateTimeField()
    last_detected_at = models.DateTimeField()
    detection_count = models.PositiveIntegerField(default=1)
    recovered_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    overdue_at = models.DateTimeField(null=True, blank=True)
    monitor_until = models.DateField(null=True, blank=True)
    dismiss_reason = models.CharField(max_length=32, choices=DismissReason.choices, blank=True)
    resolution = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    previous_flag = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="regressions"
    )
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.SET_NULL, related_name="flags")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-detected_at"]
        constraints = [
            # At most one open flag per (indicator, rule): detection upserts against this index.
            models.UniqueConstraint(
                fields=["indicator", "rule"],
                condition=models.Q(status__in=OPEN_STATUSES),
                name="flag_one_open_per_indicator_rule",
            ),
            models.CheckConstraint(condition=models.Q(status__in=FlagStatus.values), name="flag_status_valid"),
            models.CheckConstraint(condition=models.Q(severity__in=Severity.values), name="flag_severity_valid"),
            models.CheckConstraint(
                condition=models.Q(origin=FlagOrigin.MANUAL) | models.Q(rule__isnull=False),
                name="flag_automated_has_rule",
            ),
        ]
        indexes = [
            # The triage queue: open flags by status, then severity and age.
            models.Index(fields=["status", "severity", "detected_at"], name="flag_queue_idx"),
            models.Index(fields=["indicator", "status"], name="flag_indicator_status_idx"),
            models.Index(fields=["assignee", "status"], name="flag_assignee_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Flag #{self.pk} {self.indicator_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class NoteKind(models.TextChoices):
    NOTE = "note", "Note"
    AGENCY_INTEL = "agency_intel", "Agency intelligence"
    QUESTION = "question", "Question"
    ANSWER = "answer", "Answer"


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


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


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
        return self.actor.get_username() if self.actor_id else self.actor_label or "system"


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
