"""Sales development: territory rules that pick a team for a lead, and each team's
round-robin position."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from team.models import Team


def _clean_list(values, *, upper: bool) -> list[str]:
    if values in (None, ""):
        return []
    if isinstance(values, str):
        values = values.split(",")
    if not isinstance(values, list | tuple):
        raise ValidationError("Give a list of values.")
    cleaned = []
    for value in values:
        value = str(value).strip()
        if value:
            cleaned.append(value.upper() if upper else value)
    return cleaned


RULE_TEAM_KINDS = (Team.Kind.INBOUND, Team.Kind.OUTBOUND, Team.Kind.SALES, Team.Kind.ACCOUNT_MANAGEMENT)


class TerritoryRule(models.Model):
    """Which team a sales-ready lead goes to. Rules are tried in ``position`` order and the
    first whose every condition holds wins; an empty condition matches anything, so a rule
    without conditions is the catch-all.

    Inbound leads go to inbound teams; a rule may name an outbound team ("outbound SDRs take
    inbound leads from their named accounts' countries"). A rule naming a team of AEs picks
    the AE team for a handoff instead, and one naming a team of account managers picks the AM
    for a new customer: lead routing uses SDR teams' rules only, handoffs only AE teams',
    customers only AM teams'.
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=100, help_text="Lower is tried first.")
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        related_name="territory_rules",
        limit_choices_to={"kind__in": RULE_TEAM_KINDS},
    )
    countries = models.JSONField(
        default=list, blank=True, help_text='ISO country codes, e.g. ["DE", "AT", "CH"]; empty: any.'
    )
    industries = models.JSONField(
        default=list, blank=True, help_text='Industries, e.g. ["Software", "Fintech"]; empty: any.'
    )
    min_employees = models.PositiveIntegerField(null=True, blank=True)
    max_employees = models.PositiveIntegerField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min_employees__isnull=True)
                | Q(max_employees__isnull=True)
                | Q(max_employees__gte=models.F("min_employees")),
                name="territory_employee_band",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        self.countries = _clean_list(self.countries, upper=True)
        self.industries = _clean_list(self.industries, upper=False)
        bad = [c for c in self.countries if len(c) != 2 or not c.isalpha()]
        if bad:
            raise ValidationError({"countries": f"Not two-letter country codes: {', '.join(bad)}."})
        if self.team_id and self.team.kind not in RULE_TEAM_KINDS:
            raise ValidationError(
                {
                    "team": "A rule routes leads to an SDR team, handoffs to a team of AEs, or new customers "
                    "to a team of account managers; not to this team."
                }
            )
        if (
            self.min_employees is not None
            and self.max_employees is not None
            and self.max_employees < self.min_employees
        ):
            raise ValidationError({"max_employees": "The band's upper bound is below its lower bound."})

    def matches(self, lead) -> bool:
        if self.countries and (lead.country or "").upper() not in self._countries:
            return False
        if self.industries and (lead.industry or "").strip().casefold() not in self._industries:
            return False
        if self.min_employees is not None and (lead.employees is None or lead.employees < self.min_employees):
            return False
        return not (
            self.max_employees is not None and (lead.employees is None or lead.employees > self.max_employees)
        )

    @property
    def _countries(self) -> frozenset[str]:
        return frozenset(c.upper() for c in self.countries)

    @property
    def _industries(self) -> frozenset[str]:
        return frozenset(i.strip().casefold() for i in self.industries)

    def describe(self) -> str:
        parts = []
        if self.countries:
            parts.append("country " + "/".join(self.countries))
        if self.industries:
            parts.append("industry " + "/".join(self.industries))
        if self.min_employees is not None or self.max_employees is not None:
            low = self.min_employees if self.min_employees is not None else 0
            high = self.max_employees if self.max_employees is not None else "∞"
            parts.append(f"{low} to {high} employees")
        return ", ".join(parts) or "everything else"


class RoundRobin(models.Model):
    """A team's round-robin position: the last rep who received a lead. Routing takes this
    row ``FOR UPDATE``, so two leads routed at the same instant queue up on it and never
    take the same slot."""

    team = models.OneToOneField(Team, on_delete=models.CASCADE, primary_key=True, related_name="round_robin")
    last_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.team}: after {self.last_user or 'nobody'}"


class Channel(models.TextChoices):
    """How a cadence step reaches the prospect (each is logged as the matching touch)."""

    CALL = "call", "Call"
    EMAIL = "email", "Email"
    SOCIAL = "social", "Social message"
    VOICEMAIL = "voicemail", "Voicemail"


class Cadence(models.Model):
    """A playbook of timed touches (edited in the admin): an SDR enrolls a prospect or an
    inbound lead, and each step in turn becomes a work item in the SDR's queue.

    A nurture track is a cadence too (``kind`` nurture): marketing's automatic emails, spaced
    over weeks, for leads in nurture. Its ``sender``'s mailbox sends them; a lead leaves the
    track when it becomes sales-ready (or replies, bounces, unsubscribes)."""

    class Kind(models.TextChoices):
        SALES = "sales", "Sales cadence (SDRs enroll leads in their queue)"
        NURTURE = "nurture", "Nurture track (leads in nurture, automatic emails)"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SALES)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="A nurture track's emails go out from this person's mailbox.",
    )
    description = models.TextField(blank=True, max_length=2000)
    is_active = models.BooleanField(default=True, help_text="Inactive cadences take no new enrollments.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == self.Kind.NURTURE and self.sender_id is None:
            raise ValidationError(
                {"sender": "A nurture track's emails go out from someone's mailbox: choose who."}
            )


class CadenceStep(models.Model):
    """One touch of a cadence. ``day_offset`` counts business days from the start of the
    cadence; the step is scheduled when the one before it is done, ``day_offset`` minus the
    previous step's offset business days later (a late step shifts the rest, it never piles
    them up)."""

    cadence = models.ForeignKey(Cadence, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField(help_text="Order within the cadence (1, 2, 3...).")
    day_offset = models.PositiveSmallIntegerField(
        help_text="Business days after the start of the cadence (0: the day of enrollment)."
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    instructions = models.TextField(max_length=2000, blank=True, help_text="What to do or say in this step.")
    # Email steps: the email to send, with merge fields (mail.merge). Automatic ones are sent
    # by a worker when due, inside the sender's business hours; manual ones wait in the queue
    # for the rep to review and send.
    automatic = models.BooleanField(
        default=False, help_text="Email steps only: sent by Refinery when due instead of waiting for the rep."
    )
    subject = models.CharField(max_length=300, blank=True, help_text="Email steps: the subject.")
    body = models.TextField(max_length=20_000, blank=True, help_text="Email steps: the body.")

    class Meta:
        ordering = ["cadence", "position"]
        constraints = [
            models.UniqueConstraint(fields=["cadence", "position"], name="cadence_step_position_unique"),
        ]

    def __str__(self) -> str:
        return f"Step {self.position}: day {self.day_offset}, {self.get_channel_display()}"


class Enrollment(models.Model):
    """A lead working through a cadence. One active enrollment per lead; it ends when the
    prospect replies or books a meeting, when the SDR stops it, or after its last step (which
    proposes nurture)."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        REPLIED = "replied", "Ended: the prospect replied"
        MEETING = "meeting", "Ended: meeting booked"
        FINISHED = "finished", "Finished without a reply"
        STOPPED = "stopped", "Stopped"
        BOUNCED = "bounced", "Ended: the address bounces"
        UNSUBSCRIBED = "unsubscribed", "Ended: unsubscribed"
        SALES_READY = "sales_ready", "Ended: sales-ready (routed to an SDR)"

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="enrollments")
    cadence = models.ForeignKey(Cadence, on_delete=models.PROTECT, related_name="enrollments")
    state = models.CharField(max_length=12, choices=State.choices, default=State.ACTIVE)
    step = models.ForeignKey(
        CadenceStep,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The step now due (its work item is in the queue).",
    )
    enrolled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    manual_reason = models.CharField(
        max_length=500,
        blank=True,
        help_text="Why the step now due, an automatic email, waits for the rep instead (it could not "
        "be sent by itself, e.g. a merge field with no value).",
    )
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=Q(state="active"), name="one_active_enrollment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.lead} in {self.cadence}"
