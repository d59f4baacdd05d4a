"""What several of the AE's pages share: when an opportunity entered its stage, the
pipeline's stages in one query, and where a form was posted from."""

from django.db.models import (
    F,
    OuterRef,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from ..models import Opportunity, OpportunityEvent, Stage

STAGE_EVENTS = (
    OpportunityEvent.Kind.ACCEPTED,
    OpportunityEvent.Kind.STAGE,
    OpportunityEvent.Kind.WON,
    OpportunityEvent.Kind.LOST,
)


def with_stage_since(queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """When the opportunity entered its current stage: its last stage event (one index lookup
    per row, inside the same query)."""
    entered = (
        OpportunityEvent.objects.filter(opportunity=OuterRef("pk"), kind__in=STAGE_EVENTS)
        .order_by("-at", "-id")
        .values("at")[:1]
    )
    return queryset.annotate(stage_since=Coalesce(Subquery(entered), F("accepted_at"), F("handed_off_at")))


def pipeline_stages() -> tuple[list[Stage], list[Stage], Stage | None]:
    """Every stage (for the board's columns), the stages a card can move to by the select
    (open and won), and the lost stage (which takes its own form). One query."""
    stages = list(Stage.objects.order_by("position", "id"))
    active = [s for s in stages if s.is_active]
    movable = [s for s in active if s.kind in (Stage.Kind.OPEN, Stage.Kind.WON)]
    lost = next((s for s in active if s.kind == Stage.Kind.LOST), None)
    return stages, movable, lost


def on(request) -> str:
    """Where a form was sent from: "board" (a card), "inbox" (a row) or "page"."""
    return request.GET.get("on") or request.POST.get("on") or ""
