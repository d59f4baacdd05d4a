"""The closed history each model learns from, as one ordered ``values_list`` per target.

Each row is the lead's feature columns (``features.columns``), then its fit score, the outcome
(1 or 0) and the moment the time split cuts on; oldest first, so the held-out part is the tail.

- accepted: leads that reached a conclusion. 1 when an AE accepted an opportunity from it; 0
  when it was disqualified, recycled or lost without one. Cut on the capture.
- won: new-business opportunities from a lead, won (1) or lost (0). Cut on the close.
- renewed: contract terms with an outcome whose customer came from a lead (through the won
  opportunity): renewed, expanded or downsized (1), churned (0). Cut on the close.
"""

from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When

from accounts.models import Opportunity
from leads.models import Lead
from renewals.models import Contract

from . import features
from .models import Target

CLOSED_WITHOUT = (Lead.Status.DISQUALIFIED, Lead.Status.RECYCLED, Lead.Status.LOST)
OPEN = (
    Lead.Status.NURTURE,
    Lead.Status.MQL,
    Lead.Status.WORKING,
    Lead.Status.HANDED_OFF,
    Lead.Status.RECYCLED,
)


def _flag(q: Q) -> Case:
    return Case(When(q, then=Value(1)), default=Value(0), output_field=IntegerField())


def accepted_opportunity():
    return Exists(
        Opportunity.objects.filter(
            lead=OuterRef("pk"), kind=Opportunity.Kind.NEW_BUSINESS, accepted_at__isnull=False
        )
    )


def outcomes(target: str) -> QuerySet:
    """The target's closed history, oldest first: feature columns, fit score, outcome, moment."""
    if target == Target.ACCEPTED:
        prefix = ""
        accepted = accepted_opportunity()
        qs: QuerySet = (
            Lead.objects.annotate(pf_y=_flag(Q(accepted)), pf_t=F("captured_at"))
            .filter(Q(accepted) | Q(status__in=CLOSED_WITHOUT))
            .order_by("captured_at", "pk")
        )
    elif target == Target.WON:
        prefix = "lead__"
        qs = (
            Opportunity.objects.filter(
                kind=Opportunity.Kind.NEW_BUSINESS,
                status__in=[Opportunity.Status.WON, Opportunity.Status.LOST],
                lead__isnull=False,
                closed_at__isnull=False,
            )
            .annotate(pf_y=_flag(Q(status=Opportunity.Status.WON)), pf_t=F("closed_at"))
            .order_by("closed_at", "pk")
        )
    else:
        prefix = "opportunity__lead__"
        qs = (
            Contract.objects.exclude(outcome="")
            .filter(opportunity__lead__isnull=False, closed_at__isnull=False)
            .annotate(pf_y=_flag(~Q(outcome=Contract.Outcome.CHURNED)), pf_t=F("closed_at"))
            .order_by("closed_at", "pk")
        )
    names, annotations = features.columns(prefix)
    return qs.annotate(**annotations).values_list(*names, f"{prefix}fit_score", "pf_y", "pf_t")


def open_leads(low: int, high: int) -> QuerySet:
    """Open leads with ids in [low, high): id then feature columns."""
    names, annotations = features.columns("")
    return (
        Lead.objects.filter(pk__gte=low, pk__lt=high, status__in=OPEN)
        .annotate(**annotations)
        .order_by("pk")
        .values_list("pk", *names)
    )
