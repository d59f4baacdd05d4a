"""The pipeline: a board (a column per stage, then the recent wins and losses) or a list, an
AE's own or a manager's teams', narrowed by one FilterSet (``accounts.filters``).

The board's cards are read here for the board, for a card's own answer
(``views.opportunity``) and for the board re-rendered after a move; ``presenters.pipeline``
shapes them.
"""

from datetime import datetime, timedelta
from decimal import Decimal

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
from django.utils import timezone
from django.views.decorators.http import require_GET

from kit.htmx import is_htmx
from kit.pages import query_string

from ..access import (
    can_work_pipeline,
    pipeline_opportunities,
    sees_pipeline,
    workable_owner_ids,
)
from ..filters import SORTS, OpportunityFilter
from ..models import Opportunity, Stage
from ..presenters.pipeline import Column, board_columns, list_rows
from .common import pipeline_stages, with_stage_since

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


def _pipeline_scope(user) -> QuerySet[Opportunity]:
    return pipeline_opportunities(user).pipeline()


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
    # column key -> (cards, total amount, weighted amount); the weighted sum is amount times the
    # stage's probability (percent, edited in the admin) summed in SQL, divided by 100 here so
    # that SQLite's integer division does not truncate it.
    totals: dict[object, tuple[int, object, Decimal | None]] = {}
    grouped = shown.values("status", "stage_id").annotate(
        n=Count("pk"), total=Sum("amount"), points=Sum(F("amount") * F("stage__probability"))
    )
    for row in grouped:
        key = row["stage_id"] if row["status"] == Opportunity.Status.OPEN else row["status"]
        n, total, weighted = totals.get(key, (0, None, None))
        if row["total"] is not None:
            total = (total or 0) + row["total"]
            weighted = (weighted or Decimal(0)) + _decimal(row["points"]) / 100
        totals[key] = (n + row["n"], total, weighted)

    drop = ("page", "stage", "status", "on", "next", "part")
    columns = []
    stage: Stage | None
    for stage in stages:
        # An open stage an admin retired keeps its column while opportunities still sit in it.
        if stage.kind == Stage.Kind.OPEN and (stage.is_active or stage.pk in totals):
            more_query = query_string(params, drop=drop, view="list", stage=stage.pk)
            columns.append(
                Column(
                    "open", stage.name, stage, *totals.get(stage.pk, (0, None, None)), more_query=more_query
                )
            )
    for kind in closed:
        stage = next((s for s in stages if s.kind == kind and s.is_active), None)
        title = stage.name if stage else Opportunity.Status(kind).label
        more_query = query_string(params, drop=drop, view="list", status=kind)
        columns.append(Column(kind, title, stage, *totals.get(kind, (0, None, None)), more_query=more_query))

    # Each column's first cards, read with its own LIMIT along the pipeline index, in one
    # statement. SQLite (the demo's database) refuses a LIMIT in the members of a UNION but not
    # in their subqueries, so each member is "pk IN (the column's first ids)". (A ROW_NUMBER()
    # per column read and sorted every card on the board: 6.7 ms against 2.1 at 2,560 per AE.)
    parts = []
    for column in columns:
        if not column.count:
            continue
        if column.kind == "open":
            part = queryset.filter(status=Opportunity.Status.OPEN, stage_id=column.stage.pk)  # type: ignore[union-attr]  # an open column has its stage
            part = part.order_by(F("close_date").asc(nulls_last=True), "id")  # as the column shows them
        else:
            part = queryset.filter(status=column.kind, closed_at__gte=since).order_by("-closed_at", "-id")
        first = part.values("pk")[:CARDS_PER_COLUMN]
        parts.append(Opportunity.objects.filter(pk__in=first).order_by().values_list("pk", flat=True))
    ids = list(parts[0].union(*parts[1:], all=True)) if parts else []
    opportunities = card_opportunities(Opportunity.objects.filter(pk__in=ids)) if ids else []
    movable = [s for s in stages if s.is_active and s.kind in (Stage.Kind.OPEN, Stage.Kind.WON)]
    return board_columns(columns, opportunities, now, movable, workable)


def _decimal(value) -> Decimal:
    """A sum as an exact amount (SQLite sums decimals as floats)."""
    return Decimal(str(value or 0))


def card_opportunities(queryset: QuerySet[Opportunity]) -> list[Opportunity]:
    """The opportunities of board cards with what a card shows (one query)."""
    return list(with_stage_since(queryset.select_related("account", "stage", "owner")).only(*CARD_FIELDS))


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
    page.object_list = list_rows((rows[pk] for pk in ids if pk in rows), now)
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
