"""The one FilterSet every insight page and API endpoint reads its period and filters from.

``InsightFilter`` validates the query string (the period: ``start``/``end`` dates or a
``preset``; the lead dimensions: campaign, channel, source, team, sdr, origin, fit grade;
retention's: am) and builds the ``Scope`` the numbers are computed over. The period is cut in
the viewer's time zone (their team calendar's, UTC without one), so "the last 30 days" means
the same local days on the page, in the API and in the weekly summary.

What a role may filter by follows what it may see (``insight.access``): the SDR choices are
every SDR for someone who sees people's numbers, only themselves for an SDR (whose numbers are
already theirs), and none for anyone else. The AM choices (retention's account manager, active
or not) are the AMs whose contracts the viewer sees (the renewals app's rule: every AM for a
superuser, a manager the AMs of the teams they manage, an AM only themselves, whose numbers are
already theirs). A choice outside them is "select a valid choice" (a form error on the page, a
400 in the API), the same answer for an id that exists and one that does not, never an empty
page that would confirm an id.

Which filters a page offers follows what its numbers count (``applicable``): the lead
dimensions narrow lead facts, so they belong to the funnel, speed, money and health; retention
counts contracts, which have no campaign, channel or fit: it takes the period and the account
manager (``am``, the contracts' account's AM) only. The overview takes the lead dimensions when
it counts leads and the period only otherwise (an AM's, which is retention alone): its
retention card is one number among lead numbers, so it is not narrowed to an AM there. The
pages leave a dimension that does not apply out of the form and ignore it in the query string
(a tab link keeps it for the way back); the API refuses it with a 400 naming it, so a script
never believes it narrowed what it did not.

Retention's default period is the last 12 months, not 30 days: contracts end a few times a
month, so a month of them is usually nothing to read.
"""

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django_filters.fields import ModelChoiceField

from kit import bounds
from leads.models import Campaign, Channel
from leads.scoring import FIT_LETTERS
from team.access import managed_teams
from team.models import Role, Team, User

from . import access
from .models import LeadFact
from .scope import MAX_PERIOD_DAYS, Period, Scope, generation, viewer_tz

DEFAULT_PRESET = "30d"
RETENTION_PRESET = "12m"
PRESETS = [
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("12m", "Last 12 months"),
    ("quarter", "This quarter"),
    ("year", "This year"),
]
FIT_GRADES = [(letter, letter) for letter, _ in FIT_LETTERS] + [("D", "D")]
# The lead dimensions, as LeadFact lookups (what ``Scope.filters`` holds on a lead page).
DIMENSIONS = ("campaign", "channel", "source", "team", "sdr", "origin", "fit_grade")
# Retention's: what ``insight.retention`` narrows the contracts by (``Scope.filters["am"]``, a
# user id: the contracts' account's account manager), never a lookup on the facts.
CONTRACT_DIMENSIONS = ("am",)
ALL_DIMENSIONS = DIMENSIONS + CONTRACT_DIMENSIONS
# Dimensions that name a person: offered only to who sees people's numbers (for an SDR the
# choice is themselves, for an AM too: implied, not shown).
PEOPLE = ("sdr", "am")
PERIOD_FIELDS = ("start", "end", "preset")
# What a page's numbers count: "overview" is the overview (its cards follow the viewer's
# sections), "rows" the rows behind a diagnosis (lead facts and people, like health).
LEAD_SECTIONS = ("funnel", "speed", "money", "health", "rows")


def applicable(user, section: str) -> tuple[str, ...]:
    """The dimensions that narrow the numbers ``section`` shows ``user`` (the period always
    applies): the lead dimensions where leads are counted, the account manager on the retention
    section (contracts), none on an overview of retention alone."""
    if section == "overview":
        return DIMENSIONS if any(s != "retention" for s in access.sections(user)) else ()
    if section == "retention":
        return CONTRACT_DIMENSIONS
    return DIMENSIONS if section in LEAD_SECTIONS else ()


def default_preset(user, section: str) -> str:
    """The period a page opens on when the request names none: 12 months where only
    retention is shown (the retention section, an AM's overview), 30 days elsewhere."""
    only_retention = section == "retention" or (section == "overview" and not applicable(user, section))
    return RETENTION_PRESET if only_retention else DEFAULT_PRESET


def months_back(today: date, months: int) -> date:
    """The first day of the month ``months`` months before ``today``'s."""
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def preset_period(preset: str, tz: ZoneInfo, today: date | None = None) -> Period:
    """The local days a preset names, ending today (included)."""
    today = today or timezone.localdate(timezone=tz)
    if preset == "quarter":
        return Period(date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today, tz)
    if preset == "year":
        return Period(date(today.year, 1, 1), today, tz)
    if preset == "12m":
        # This month so far and the 11 full months before it: 12 month rows, today included.
        return Period(months_back(today, 11), today, tz)
    return Period.last_days(int(preset.removesuffix("d")), tz, today=today)


def _sdrs(request) -> QuerySet[User]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return User.objects.none()
    sdrs = User.objects.filter(role__in=[Role.INBOUND_SDR, Role.OUTBOUND_SDR])
    if access.sees_people(user):
        return sdrs.order_by("first_name", "last_name", "username")
    if user.is_sdr:
        return sdrs.filter(pk=user.pk)
    return User.objects.none()


def _ams(request) -> QuerySet[User]:
    """The AMs (active or not) whose contracts the viewer sees, by name: the renewals app's rule
    (``Contract.objects.visible_to``) read for people."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return User.objects.none()
    ams = User.objects.filter(role=Role.AM).order_by("first_name", "last_name", "username")
    if user.is_superuser:
        return ams
    if user.role == Role.MANAGER:
        return ams.filter(team__in=managed_teams(user))
    if user.role == Role.AM:
        return ams.filter(pk=user.pk)
    return User.objects.none()


class _PersonField(ModelChoiceField):
    """A person's choice; one who left (inactive) is still there, and says so."""

    def label_from_instance(self, obj) -> str:
        return str(obj) if obj.is_active else f"{obj} (inactive)"


class _PersonFilter(django_filters.ModelChoiceFilter):
    field_class = _PersonField


def _teams(request) -> QuerySet[Team]:
    return Team.objects.select_related(None).order_by("name")


class InsightFilterForm(forms.Form):
    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The last day is before the first day.")
            elif (end - start).days + 1 > MAX_PERIOD_DAYS:
                self.add_error("end", f"Choose at most {MAX_PERIOD_DAYS} days.")
        return cleaned


class _DateFilter(django_filters.DateFilter):
    field_class = bounds.DateField


def _keep(queryset, name, value):
    """The period is not a lookup on the facts: each number cuts its own moment (Scope); nor is
    the account manager: retention narrows the contracts by it (``Scope.filters``)."""
    return queryset


class InsightFilter(django_filters.FilterSet):
    """``InsightFilter(request.GET, queryset=access.visible_facts(user), request=request)``;
    ``is_valid()``, then ``scope()``."""

    start = _DateFilter(method=_keep, label="From", help_text="The first day (in your team's time zone).")
    end = _DateFilter(method=_keep, label="To", help_text="The last day, included.")
    preset = django_filters.ChoiceFilter(
        choices=PRESETS,
        method=_keep,
        empty_label=None,
        label="Period",
        help_text="Used when no start is given; the default is the last 30 days (12 months for retention).",
    )
    campaign = django_filters.ModelChoiceFilter(
        queryset=Campaign.objects.all(), empty_label="Any campaign", label="Campaign"
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, empty_label="Any channel", label="Channel")
    source = django_filters.ChoiceFilter(choices=Channel.choices, empty_label="Any source", label="Source")
    team = django_filters.ModelChoiceFilter(queryset=_teams, empty_label="Any team", label="Team")
    sdr = django_filters.ModelChoiceFilter(queryset=_sdrs, empty_label="Any SDR", label="SDR")
    origin = django_filters.ChoiceFilter(
        choices=LeadFact.Origin.choices, empty_label="In and outbound", label="Origin"
    )
    fit_grade = django_filters.ChoiceFilter(choices=FIT_GRADES, empty_label="Any fit", label="Fit")
    am = _PersonFilter(
        queryset=_ams, method=_keep, empty_label="Any account manager", label="Account manager"
    )

    class Meta:
        model = LeadFact
        fields: list[str] = []
        form = InsightFilterForm

    def __init__(self, *args, section: str = "funnel", defaulted: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.section = section
        self.defaulted = defaulted
        user = self.request.user if self.request is not None else None
        keep = set(PERIOD_FIELDS) | set(applicable(user, section) if user is not None else ALL_DIMENSIONS)
        for name in list(self.filters):
            if name not in keep:
                del self.filters[name]  # a per-instance copy of base_filters

    @classmethod
    def for_request(cls, request, data=None, section: str = "funnel") -> "InsightFilter":
        """The filter over what the request's user may see, with the dimensions that apply to
        ``section`` (always bound: no period is the section's default period)."""
        data = (request.GET if data is None else data).copy()
        defaulted = not any(data.get(name) for name in PERIOD_FIELDS)
        if defaulted:
            # so the period picker shows what is applied
            data["preset"] = default_preset(request.user, section)
        return cls(
            data,
            queryset=access.visible_facts(request.user),
            request=request,
            section=section,
            defaulted=defaulted,
        )

    def not_applicable(self) -> list[str]:
        """The dimensions named in the query string that do not narrow this section's
        numbers (the API refuses them; the pages ignore them)."""
        return [
            name
            for name in ALL_DIMENSIONS
            if name not in self.filters and self.data.get(name) not in (None, "")
        ]

    def dimension_fields(self) -> list:
        """The form's dimension fields the page shows, in order (an SDR's own SDR choice, and an
        AM's own AM choice, are implied, not shown)."""
        shown = [name for name in ALL_DIMENSIONS if name in self.filters]
        if not access.sees_people(self.user):
            shown = [name for name in shown if name not in PEOPLE]
        return [self.form[name] for name in shown]

    @property
    def user(self):
        return self.request.user

    def period(self) -> Period:
        """The chosen local days; call after ``is_valid()``."""
        data = self.form.cleaned_data
        tz = viewer_tz(self.user)
        start, end = data.get("start"), data.get("end")
        if start or end:
            today = timezone.localdate(timezone=tz)
            end = end or max(start, min(today, start + timedelta(days=MAX_PERIOD_DAYS - 1)))
            start = start or end - timedelta(days=29)
            return Period(start, end, tz)
        return preset_period(data.get("preset") or DEFAULT_PRESET, tz)

    def lookups(self) -> dict:
        """The chosen dimensions, objects by id (``{"campaign": 3}``): what ``Scope.filters``
        holds and the modules read (LeadFact lookups on a lead page: money narrows campaigns by
        them, the health rows narrow people; ``am`` on retention's, which narrows contracts)."""
        data = self.form.cleaned_data
        return {
            name: getattr(data[name], "pk", data[name])
            for name in ALL_DIMENSIONS
            if name in self.filters and data.get(name) not in (None, "")
        }

    def scope(self) -> Scope:
        """The Scope the numbers are computed over; call after ``is_valid()``."""
        facts = self.qs
        return Scope(
            user=self.user,
            period=self.period(),
            facts=facts,
            filters=self.lookups(),
            generation=generation(facts.db),
        )

    def preset_name(self) -> str:
        data = self.form.cleaned_data
        return "" if data.get("start") or data.get("end") else data.get("preset") or DEFAULT_PRESET

    def query(self, **changes) -> str:
        """The current query string with some parameters replaced (a link to another section
        or a CSV keeps the filters)."""
        query = self.data.copy() if hasattr(self.data, "copy") else dict(self.data)
        for key, value in changes.items():
            if value is None:
                query.pop(key, None)
            else:
                query[key] = value
        for name in ("format", "table", "page"):
            query.pop(name, None)
        if self.defaulted and "preset" not in changes:
            query.pop("preset", None)  # another section opens on its own default period
        return query.urlencode() if hasattr(query, "urlencode") else ""


def breach_lookups(scope: Scope) -> Q:
    """The breaches (work.Breach) a scope's team and SDR filters narrow to."""
    q = Q()
    if "team" in scope.filters:
        q &= Q(team=scope.filters["team"])
    if "sdr" in scope.filters:
        q &= Q(owner=scope.filters["sdr"])
    return q
