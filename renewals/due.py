"""What the renewals page and its API (``GET /api/v1/renewals/``) share: the active contracts
ending within the horizon that a user sees, the 30/60/90-day buckets they fall in, and what
puts each at risk (SQL conditions)."""

from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    BooleanField,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from accounts.models import Contact
from leads.models import ScoringSettings
from leads.scoring import threshold_key
from team.models import User
from work.models import WorkItem

from .access import sees_every_am
from .models import Contract
from .services import RENEWAL_ITEM_KINDS

HORIZON_DAYS = 90
BUCKETS = ((30, "Due in 30 days"), (60, "Due in 31-60 days"), (90, "Due in 61-90 days"))


class Risk:
    """Why a renewal is at risk, as SQL conditions on contracts: nobody has logged a renewal
    conversation since its window opened; the customer's people have gone quiet (the most
    engaged contact's lead has decayed below the cold threshold); or a renewal item has
    breached its SLA.

    The last two are scalar subqueries, one index lookup per contract (contact_account,
    workitem_subject). Written as EXISTS inside an OR, PostgreSQL hashed them instead: every
    engaged lead and every open item read once per request (230 ms for one AM at 100,000
    contracts, against 10 ms now)."""

    REASONS = {
        "risk_silent": "No renewal conversation logged",
        "risk_quiet": "Contacts' engagement has decayed",
        "risk_breached": "A renewal item breached its SLA",
    }

    def __init__(self, *, now: datetime, today: date, start_days: int, scoring: ScoringSettings) -> None:
        breached = WorkItem.objects.filter(
            content_type=ContentType.objects.get_for_model(Contract),
            object_id=OuterRef("pk"),
            kind__in=RENEWAL_ITEM_KINDS,
            state=WorkItem.State.OPEN,
        ).filter(Q(breached_at__isnull=False) | Q(due_at__lte=now))
        top_engagement = (
            Contact.objects.filter(account_id=OuterRef("account_id"), lead__isnull=False)
            .order_by("-lead__engagement_key")
            .values("lead__engagement_key")[:1]
        )
        self.aliases = {
            "breached_item": Subquery(breached.values("pk")[:1]),
            "top_engagement": Subquery(top_engagement),
        }
        self.conditions = {
            "risk_silent": Q(
                renewal_activity_at__isnull=True, end_date__lte=today + timedelta(days=start_days)
            ),
            # No contact with a lead is no evidence either way: not at risk for that.
            "risk_quiet": Q(
                top_engagement__lt=threshold_key(scoring.cold_threshold, now, scoring.half_life_days)
            ),
            "risk_breached": Q(breached_item__isnull=False),
        }
        self.any = Q()
        for condition in self.conditions.values():
            self.any |= condition

    def scope(self, contracts: QuerySet[Contract]) -> QuerySet[Contract]:
        """The contracts with what the conditions read."""
        return contracts.alias(**self.aliases)

    def flags(self) -> dict:
        return {
            name: ExpressionWrapper(q, output_field=BooleanField()) for name, q in self.conditions.items()
        }

    def reasons(self, row: Contract) -> list[str]:
        return [text for name, text in self.REASONS.items() if getattr(row, name)]


def bucket_q(days: int, today: date) -> Q:
    """The first bucket also holds the contracts past their end and still active."""
    q = Q(end_date__lte=today + timedelta(days=days))
    if days > BUCKETS[0][0]:
        q &= Q(end_date__gt=today + timedelta(days=days - 30))
    return q


def bucket_of(end: date, today: date) -> int:
    return next((days for days, _ in BUCKETS if end <= today + timedelta(days=days)), BUCKETS[-1][0])


def due_contracts(user, ams: list[User] | None, today: date) -> QuerySet[Contract]:
    """The active contracts ``user`` sees that end within the horizon (or have ended, still
    open). ``ams``: the AMs a user who looks across AMs looks across (None for an AM)."""
    contracts = Contract.objects.visible_to(user)
    if ams and not sees_every_am(user):
        # Their AMs' ids as a list, not visible_to's join through the AM's team: the planner
        # guessed one AM for a team of 11 and probed every account (342 ms at p95 for 25,630
        # contracts).
        contracts = Contract.objects.filter(account__account_manager_id__in=[am.pk for am in ams])
    return contracts.active().filter(end_date__lte=today + timedelta(days=HORIZON_DAYS))
