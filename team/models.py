"""People and time: users with a role, teams, and business-hours calendars."""

import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known IANA time zone.")


class BusinessCalendar(models.Model):
    """When a team works: a time zone, weekly opening hours and holidays.

    SLA due times are computed in the owner's team calendar (see ``team.calendar``).
    """

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.timezone})"

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class WorkingHours(models.Model):
    """One open interval on one weekday, in the calendar's local time (a day may have several)."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["calendar", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="hours_close_after_open"),
            models.CheckConstraint(condition=Q(weekday__gte=0, weekday__lte=6), name="hours_weekday_range"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{self.closes:%H:%M}"


class Holiday(models.Model):
    """A local date on which the calendar's team does not work."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["calendar", "date"]
        constraints = [models.UniqueConstraint(fields=["calendar", "date"], name="holiday_once_per_day")]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class Team(models.Model):
    """A group of reps with one manager, working to one business calendar."""

    class Kind(models.TextChoices):
        INBOUND = "inbound", "Inbound SDR"
        OUTBOUND = "outbound", "Outbound SDR"
        SALES = "sales", "Account executives"
        ACCOUNT_MANAGEMENT = "am", "Account management"
        MARKETING = "marketing", "Marketing / ops"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    manager = models.ForeignKey(
        "team.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="managed_teams"
    )
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="teams")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    INBOUND_SDR = "inbound_sdr", "Inbound SDR"
    OUTBOUND_SDR = "outbound_sdr", "Outbound SDR"
    AE = "ae", "Account executive"
    AM = "am", "Account manager"
    MANAGER = "manager", "Manager"
    MARKETING = "marketing", "Marketing / ops"
    # A service account for a system that feeds leads in (marketing automation, the website's
    # backend, a form tool): it captures through POST /api/v1/leads/ and reads campaigns, and
    # sees no lead, contract or queue (``leads.access.can_capture_leads``).
    INTEGRATION = "integration", "Integration (API capture only)"


class User(AbstractUser):
    """A person using Refinery. The role decides which queue they work and what they may see."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.INBOUND_SDR)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    is_away = models.BooleanField(default=False, help_text="Away reps are skipped by routing.")
    capacity = models.PositiveIntegerField(default=50, help_text="Most open leads this rep should hold.")
    timezone = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_timezone],
        help_text="The zone this person reads times in (blank: their team calendar's, else UTC). "
        "SLAs still run in the owner's team calendar.",
    )

    class Meta:
        indexes = [models.Index(fields=["team", "role"], name="user_team_role")]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    @property
    def is_sdr(self) -> bool:
        return self.role in (Role.INBOUND_SDR, Role.OUTBOUND_SDR)

    @property
    def sees_all_leads(self) -> bool:
        """Managers and marketing/ops look across every lead; superusers too."""
        return self.is_superuser or self.role in (Role.MANAGER, Role.MARKETING)


class ApiToken(models.Model):
    """A personal API token (``Authorization: Token <token>``). Only its SHA-256 digest is
    stored: the token is shown once, when it is made. It is valid until it expires, its owner
    revokes it, or the owner's password changes: it keeps a fingerprint of the password hash, as
    a session does (``team.tokens``)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12, help_text="The token's first characters, to tell it apart.")
    digest = models.CharField(max_length=64, unique=True)
    password_fingerprint = models.CharField(max_length=128)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "expires_at"], name="apitoken_user_expiry")]

    def __str__(self) -> str:
        return f"{self.name or 'token'} ({self.prefix}…)"
