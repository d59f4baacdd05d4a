"""The pipeline: a board (a column per stage, then the recent wins and losses) or a list, an
AE's own or a manager's teams', narrowed by one FilterSet (``accounts.filters``).

The board's cards are built here for the board, for a card's own answer
(``views.opportunity``) and for the board re-rendered after a move.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    F,
    Q,
    QuerySet,
    Sum,
)
from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from kit.htmx import is_htmx
from kit.pages import money_text, query_string

from ..access import (
    can_work_pipeline,
    pipeline_opportunities,
    sees_pipeline,
    workable_owner_ids,
)
from ..filters import SORTS, OpportunityFilter
from ..models import Opportunity, Stage
from .common import days_since, pipeline_stages, with_stage_since

# The board shows the first cards of each column, in the pipeline index's order; the rest are
# one click away in the list view, filtered by the stage.
CARDS_PER_COLUMN = 20  # 6 columns of 50 cards took 170 ms at p95 (make bench), mostly rendering
RECENT_CLOSES_DAYS = 30
# What a card shows: loading only these keeps a board of a few hundred cards cheap.
CARD_FIELDS = (
    "id", "name", "status", "amount", "close_date", "next_step", "early_loss", "closed_at",
    "lost_reason", "accepted_at", "handed_off_at", "account__name", "stage__name", "stage__kind",
    "stage__position", "stage__is_active", "owner__username", "owner__first_name", "owner__last_name",
    "owner__team_id",
)  # fmt: skip
LIST_PER_PAGE = 50


@dataclass
class Column:
    """One board column: an open stage, or the recent wins or losses."""

    kind: str
    title: str
    stage: Stage | None = None
    count: int = 0
    total: object = None
    cards: list = field(default_factory=list)
    more_query: str = ""

    @property
    def more(self) -> int:
        return self.count - len(self.cards)

    @property
    def dom_id(self) -> str:
        return f"col-{self.stage.pk}" if self.kind == "open" else f"col-{self.kind}"  # type: ignore[union-attr]  # an open column has its stage


def _pipeline_scope(user) -> QuerySet[Opportunity]:
    return pipeline_opportunities(user).pipeline()


def _close_date_key(card: Opportunity) -> tuple:
    return (card.close_date is None, card.close_date or date.min, card.pk)


def _board(
    queryset: QuerySet[Opportunity],
    stages: list[Stage],
    params: QueryDict,
    now: datetime,
    workable: set | None,
) -> list:
    """The columns with their totals (one grouped query) and their first cards (one query for
    the ids, each column an index range read with its own LIMIT, and one for the cards)."""
    since = now - timedelta(days=RECENT_CLOSES_DAYS)
    closed = (Opportunity.Status.WON, Opportunity.Status.LOST)
    shown = queryset.filter(
        Q(status=Opportunity.Status.OPEN) | Q(status__in=closed, closed_at__gte=since)
    ).order_by()
    totals: dict = {}
    key: int | str | None
    for row in shown.values("status", "stage_id").annotate(n=Count("pk"), total=Sum("amount")):
        key = row["stage_id"] if row["status"] == Opportunity.Status.OPEN else row["status"]
        n, total = totals.get(key, (0, None))
        if row["total"] is not None:
            total = (total or 0) + row["total"]
        totals[key] = (n + row["n"], total)

    columns = []
    stage: Stage | None
    for stage in stages:
        # An open stage an admin retired keeps its column while opportunities still sit in it.
        if stage.kind == Stage.Kind.OPEN and (stage.is_active or stage.pk in totals):
            columns.append(Column("open", stage.name, stage, *totals.get(stage.pk, (0, None))))
    for kind in closed:
        stage = next((s for s in stages if s.kind == kind and s.is_active), None)
        title = stage.name if stage else Opportunity.Status(kind).label
        columns.append(Column(kind, title, stage, *totals.get(kind, (0, None))))

    # Each column's first cards, read with its own LIMIT along the pipeline index, in one
    # statement. SQLite (the demo's database) refuses a LIMIT in the members of a UNION but not
    # in their subqueries, so each member is "pk IN (the column's first ids)". (A ROW_NUMBER()
    # per column read and sorted every card on the board: 6.7 ms against 2.1 at 2,560 per AE.)
    parts = []
    for column in columns:
        if column.kind == "open":
            narrowed = {"stage": column.stage.pk}  # type: ignore[union-attr]  # an open column has its stage
            part = queryset.filter(status=Opportunity.Status.OPEN, stage_id=column.stage.pk)  # type: ignore[union-attr]  # an open column has its stage
            part = part.order_by(F("close_date").asc(nulls_last=True), "id")  # as the column shows them
        else:
            narrowed = {"status": column.kind}
            part = queryset.filter(status=column.kind, closed_at__gte=since).order_by("-closed_at", "-id")
        column.more_query = query_string(
            params, drop=("page", "stage", "status", "on", "next", "part"), view="list", **narrowed
        )
        if column.count:
            first = part.values("pk")[:CARDS_PER_COLUMN]
            parts.append(Opportunity.objects.filter(pk__in=first).order_by().values_list("pk", flat=True))
    ids = list(parts[0].union(*parts[1:], all=True)) if parts else []
    cards = board_cards(Opportunity.objects.filter(pk__in=ids), now) if ids else []

    by_column: dict = {}
    for card in cards:
        card.workable = workable is None or card.owner_id in workable
        key = card.stage_id if card.status == Opportunity.Status.OPEN else card.status
        by_column.setdefault(key, []).append(card)
    movable = [s for s in stages if s.is_active and s.kind in (Stage.Kind.OPEN, Stage.Kind.WON)]
    for column in columns:
        if column.kind == "open":
            options = stage_options(movable, column.stage)
            for card in by_column.get(column.stage.pk, []):  # type: ignore[union-attr]  # an open column has its stage
                card.options = options
            column.cards = sorted(by_column.get(column.stage.pk, []), key=_close_date_key)  # type: ignore[union-attr]  # an open column has its stage
        else:
            column.cards = sorted(
                by_column.get(column.kind, []), key=lambda c: (c.closed_at, c.pk), reverse=True
            )
    return columns


def board_cards(queryset: QuerySet[Opportunity], now: datetime) -> list[Any]:
    """Cards with what they show, computed here rather than in the template: at a few hundred
    cards the template's url tags and filters were most of the board's time."""
    # Opportunities carrying the card's display attributes besides their fields.
    cards: list[Any] = list(
        with_stage_since(queryset.select_related("account", "stage", "owner")).only(*CARD_FIELDS)
    )
    for card in cards:
        card.days_in_stage = days_since(card.stage_since, now)
        card.mode, card.error, card.move_form, card.options, card.workable = "view", "", None, "", False
        card.url = reverse("accounts:opportunity", args=[card.pk])
        card.move_url = reverse("accounts:move", args=[card.pk])
        card.details_url = reverse("accounts:details", args=[card.pk])
        card.amount_text = money_text(card.amount)
        card.close_text = f"{card.close_date.day} {card.close_date:%b %Y}" if card.close_date else ""
        card.closed_text = f"{card.closed_at.day} {card.closed_at:%b}" if card.closed_at else ""
    return cards


def stage_options(movable: list[Stage], current: Stage | None) -> str:
    """A card's stage options, rendered once per column rather than once per card (a stage an
    admin retired stays listed for the cards still in it)."""
    choices = movable if current is None or current in movable else [current, *movable]
    return mark_safe(
        "".join(
            f'<option value="{s.pk}"{" selected" if current and s.pk == current.pk else ""}>'
            f"{'✓ ' if s.kind == Stage.Kind.WON else ''}{escape(s.name)}</option>"
            for s in choices
        )
    )


def _list_page(request, opp_filter: OpportunityFilter, now: datetime):
    """One page of the list: the page's ids from the filtered, sorted opportunities alone (a
    top-N sort, no joins), then those rows with what they show. Joining first would join every
    matching row before the sort keeps fifty."""
    ordered = opp_filter.qs
    if not opp_filter.form.cleaned_data.get("sort"):
        ordered = ordered.order_by(*SORTS["close_date"])
    page = Paginator(ordered.values_list("pk", flat=True), LIST_PER_PAGE).get_page(request.GET.get("page"))
    ids = list(page.object_list)
    rows = (
        {
            row.pk: row
            for row in with_stage_since(
                Opportunity.objects.filter(pk__in=ids).select_related(
                    "account", "stage", "owner", "sdr", "campaign"
                )
            )
        }
        if ids
        else {}
    )
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    for row in page.object_list:
        row.days_in_stage = (
            days_since(row.stage_since, now) if row.status == Opportunity.Status.OPEN else None
        )
        row.amount_text = money_text(row.amount)
    return page


def pipeline_context(request) -> tuple[dict, int]:
    user = request.user
    params = request.GET
    view = "list" if params.get("view") == "list" else "board"
    opp_filter = OpportunityFilter(params or None, queryset=_pipeline_scope(user), request=request)
    valid = not opp_filter.is_bound or opp_filter.is_valid()
    now = timezone.now()
    stages, _, lost_stage = pipeline_stages()
    board_query = query_string(params, drop=("page", "view", "on", "next", "part"))
    context = {
        "filter": opp_filter,
        "valid": valid,
        "view": view,
        "now": now,
        "lost_stage": lost_stage,
        "board_query": board_query,
        "list_query": query_string(params, drop=("page", "view", "on", "next", "part"), view="list"),
        "page_query": query_string(params, drop=("page", "on", "next", "part")),
        "show_owner": not can_work_pipeline(user),
        "recent_days": RECENT_CLOSES_DAYS,
    }
    if not valid:
        return context, 400
    if view == "list":
        sort = opp_filter.form.cleaned_data.get("sort") or "close_date"
        context.update(
            page=_list_page(request, opp_filter, now),
            sort=sort,
            sort_close=query_string(
                params,
                drop=("page", "on", "next", "part"),
                sort="-close_date" if sort == "close_date" else "close_date",
            ),
            sort_amount=query_string(
                params, drop=("page", "on", "next", "part"), sort="amount" if sort == "-amount" else "-amount"
            ),
        )
    else:
        context["columns"] = _board(opp_filter.qs, stages, params, now, workable_owner_ids(user))
    return context, 200


@login_required
@require_GET
def pipeline(request):
    """The pipeline as a board (a column per stage, then the recent wins and losses) or a
    list (``?view=list``), narrowed by one FilterSet: an AE's own, a manager's teams'."""
    if not sees_pipeline(request.user):
        raise PermissionDenied("The pipeline is the AEs' and their managers'.")
    context, status = pipeline_context(request)
    if is_htmx(request) and request.headers.get("HX-Target") == "pipeline-results":
        return render(request, "accounts/_pipeline_results.html", context, status=status)
    return render(request, "accounts/pipeline.html", context, status=status)
