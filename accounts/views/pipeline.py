"""The AE's pages: the inbox of handoffs to accept or reject, the pipeline (board and list),
one opportunity's page, and the manager's early losses. Thin: authorize through
``accounts.access``, call one service, render.

Forms post with htmx and get back what changed: an inbox row (or the notice that replaces it),
a board card with its errors, or the whole board when a card changed columns. Without
JavaScript the same forms post to the same URLs: success redirects back, a refusal renders the
opportunity's page with the errors (400 for input, 409 for a move the state refuses).
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kit.htmx import is_htmx
from leads.models import ScoringSettings
from sdr.views import sla_display
from team.models import Team
from work.models import WorkItem

from .. import services
from ..access import (
    can_work_pipeline,
    handoff_for,
    may_answer,
    may_work,
    opportunity_for,
    pipeline_opportunities,
    reviews_early_losses,
    sees_pipeline,
    team_handoffs,
    teammate_ids,
    workable_for,
    workable_owner_ids,
)
from ..filters import SORTS, OpportunityFilter
from ..forms.pipeline import DetailsForm, MoveForm, RejectForm, add_refusal
from ..models import REJECT_REASONS, Opportunity, OpportunityEvent, Stage
from ..services import AccountsError

# An inbox is short by design (each handoff is answered within a business day); the cap
# only bounds a page nobody has answered for weeks.
# Rows the inbox renders: rendering, not SQL, is what a long inbox costs (make bench: 128
# pending handoffs and 100 teammates' took 820 ms at p95), so the teammates' rows are compact.
INBOX_LIMIT = 25
TEAM_LIMIT = 10
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
LOSSES_PER_PAGE = 50
PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}

STAGE_EVENTS = (
    OpportunityEvent.Kind.ACCEPTED,
    OpportunityEvent.Kind.STAGE,
    OpportunityEvent.Kind.WON,
    OpportunityEvent.Kind.LOST,
)


def _refusal_status(exc: AccountsError) -> int:
    """A refusal naming an input is bad input (400); one without is the state saying no, e.g.
    already answered or already closed (409)."""
    return 400 if exc.field else 409


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next", "")
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def _query(params: QueryDict, drop=("page",), **changes) -> str:
    """The current query string with some keys dropped or replaced."""
    query = params.copy()
    for key in drop:
        query.pop(key, None)
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


def _team_timezone(user) -> ZoneInfo:
    """Meeting times are shown in the AE team's calendar time."""
    name = None
    if user.team_id:
        name = Team.objects.filter(pk=user.team_id).values_list("calendar__timezone", flat=True).first()
    try:
        return ZoneInfo(name or "UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _local_text(moment: datetime | None, tz: ZoneInfo, fmt: str) -> str:
    """A time as the team's calendar shows it (the template's date filter would convert it
    back to the site's time zone)."""
    return timezone.localtime(moment, tz).strftime(fmt) if moment else ""


def _with_stage_since(queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """When the opportunity entered its current stage: its last stage event (one index lookup
    per row, inside the same query)."""
    entered = (
        OpportunityEvent.objects.filter(opportunity=OuterRef("pk"), kind__in=STAGE_EVENTS)
        .order_by("-at", "-id")
        .values("at")[:1]
    )
    return queryset.annotate(stage_since=Coalesce(Subquery(entered), F("accepted_at"), F("handed_off_at")))


def _days(since: datetime | None, now: datetime) -> int | None:
    return None if since is None else max(0, (now - since).days)


# --- the inbox -----------------------------------------------------------------------------


def _inbox_rows(queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
    """Handoffs with what a row shows, in the order their acceptance timers fall due: one query
    for the rows, one for their acceptance items."""
    open_item = WorkItem.objects.filter(
        content_type=ContentType.objects.get_for_model(Opportunity),
        object_id=OuterRef("pk"),
        kind=WorkItem.Kind.ACCEPT_HANDOFF,
        state=WorkItem.State.OPEN,
    ).order_by("due_at")
    return (
        queryset.select_related("account", "contact", "lead", "campaign", "sdr", "owner")
        .annotate(accept_due_at=Subquery(open_item.values("due_at")[:1]))
        .prefetch_related(
            Prefetch(
                "work_items",
                queryset=WorkItem.objects.filter(kind=WorkItem.Kind.ACCEPT_HANDOFF)
                .select_related("policy")
                .order_by("-created_at", "-id"),
                to_attr="accept_items",
            )
        )
        # Oldest handoff first is most urgent first: one policy, counted in the AE team's
        # calendar, so the due time grows with the handoff time; and it is an index order
        # (opportunity_inbox), where ordering by the item's due time sorts every pending row.
        .order_by("handed_off_at", "id")
    )


def _decorate_rows(rows, now: datetime, tz: ZoneInfo, half_life: float) -> list[Opportunity]:
    """What a row shows beyond the fields, without a query per row."""
    rows = list(rows)
    for row in rows:
        item = next((i for i in row.accept_items if i.is_open), None) or next(iter(row.accept_items), None)
        row.accept_item = item
        row.sla_css, row.sla_text, row.countdown = sla_display(item, now) if item else ("", "", "")
        row.grade_now = row.lead.grade(now, half_life) if row.lead_id else ""
        row.meeting_local = _local_text(row.proposed_meeting_at, tz, "%a %d %b, %H:%M")
        row.reject_form = None  # the template writes the blank form; a refused one is set here
        row.waiting = row.status == Opportunity.Status.HANDED_OFF
    return rows


def _inbox_context(request, refused: dict | None = None) -> dict:
    user = request.user
    now = timezone.now()
    tz = _team_timezone(user)
    half_life = ScoringSettings.load().half_life_days
    mine = _decorate_rows(
        _inbox_rows(Opportunity.objects.inbox().filter(owner=user))[:INBOX_LIMIT], now, tz, half_life
    )
    team = _decorate_rows(_inbox_rows(team_handoffs(user))[:TEAM_LIMIT], now, tz, half_life)
    # How many wait in all (the rows above are the oldest few): one count over the pending index.
    pending = Opportunity.objects.inbox()
    pending = pending.filter(owner_id__in=teammate_ids(user)) if user.team_id else pending.filter(owner=user)
    counts = pending.aggregate(
        mine=Count("pk", filter=Q(owner=user)), team=Count("pk", filter=~Q(owner=user))
    )
    refused = refused or {}
    for row in (*mine, *team):
        if row.pk == refused.get("pk"):
            row.error = refused.get("error", "")
            if refused.get("form") is not None:
                row.reject_form = refused["form"]
    return {
        "mine": mine,
        "team": team,
        "tz": tz,
        "now": now,
        "refused": refused,
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
        "reject_reasons": REJECT_REASONS,
        "mine_total": counts["mine"],
        "team_total": counts["team"],
    }


def _require_ae(user) -> None:
    if not can_work_pipeline(user):
        raise PermissionDenied("The inbox is an account executive's.")


@login_required
@require_GET
def inbox(request):
    """The AE's handoffs waiting for an answer, most urgent first, and those waiting for a
    teammate (a colleague may cover)."""
    _require_ae(request.user)
    return render(request, "accounts/inbox.html", _inbox_context(request))


def _inbox_row(request, pk: int) -> Opportunity:
    """One row as the inbox shows it, in whatever state it is now."""
    rows = _inbox_rows(Opportunity.objects.filter(pk=pk))
    tz = _team_timezone(request.user)
    return _decorate_rows(rows, timezone.now(), tz, ScoringSettings.load().half_life_days)[0]


def _answered(request, opportunity: Opportunity, notice: str):
    if is_htmx(request):
        context = {"opportunity": opportunity, "notice": notice}
        return render(request, "accounts/_inbox_done.html", context)
    messages.success(request, f"{opportunity.name}: {notice}")
    return redirect(_next_url(request, reverse("accounts:inbox")))


def _answer_refused(request, opportunity: Opportunity, status: int, error: str = "", form=None):
    """The row (htmx) or the page the answer came from, with the refusal; nothing changed."""
    if is_htmx(request):
        row = _inbox_row(request, opportunity.pk)
        row.error = error
        if form is not None:
            row.reject_form = form
        context = {"row": row, "tz": _team_timezone(request.user), "reject_reasons": REJECT_REASONS}
        return render(request, "accounts/_inbox_row.html", context, status=status)
    if _on(request) == "page":
        try:
            shown = opportunity_for(request.user, opportunity.pk)
        except Http404:
            pass  # a colleague took it over meanwhile: say so on the inbox
        else:
            context = _page_context(request, shown, error=error, reject_form=form)
            return render(request, "accounts/opportunity.html", context, status=status)
    refused = {"pk": opportunity.pk, "error": error or "Check the form below.", "form": form}
    return render(request, "accounts/inbox.html", _inbox_context(request, refused), status=status)


@login_required
@require_POST
def accept(request, pk):
    """One click: the handoff enters the pipeline at its first stage."""
    opportunity = handoff_for(request.user, pk)
    try:
        accepted = services.accept_handoff(opportunity_id=opportunity.pk, by=request.user)
    except AccountsError as exc:
        return _answer_refused(request, opportunity, _refusal_status(exc), error=str(exc))
    return _answered(request, accepted, f"In pipeline: {accepted.stage}")


@login_required
@require_POST
def reject(request, pk):
    """A reason from the list and a note: the lead goes back to its SDR with the feedback."""
    opportunity = handoff_for(request.user, pk)
    form = RejectForm(request.POST, auto_id=f"r{opportunity.pk}_%s")
    if not form.is_valid():
        return _answer_refused(request, opportunity, 400, form=form)
    try:
        services.reject_handoff(
            opportunity_id=opportunity.pk,
            by=request.user,
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except AccountsError as exc:
        if exc.field:
            add_refusal(form, exc)
        return _answer_refused(
            request, opportunity, _refusal_status(exc), error="" if exc.field else str(exc), form=form
        )
    back_to = opportunity.sdr or "the SDR"
    return _answered(request, opportunity, f"Rejected ({form.cleaned_data['reason']}): back to {back_to}")


# --- the pipeline ----------------------------------------------------------------------------


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
        return f"col-{self.stage.pk}" if self.kind == "open" else f"col-{self.kind}"


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
    for row in shown.values("status", "stage_id").annotate(n=Count("pk"), total=Sum("amount")):
        key = row["stage_id"] if row["status"] == Opportunity.Status.OPEN else row["status"]
        n, total = totals.get(key, (0, None))
        if row["total"] is not None:
            total = (total or 0) + row["total"]
        totals[key] = (n + row["n"], total)

    columns = []
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
            narrowed = {"stage": column.stage.pk}
            part = queryset.filter(status=Opportunity.Status.OPEN, stage_id=column.stage.pk)
            part = part.order_by(F("close_date").asc(nulls_last=True), "id")  # as the column shows them
        else:
            narrowed = {"status": column.kind}
            part = queryset.filter(status=column.kind, closed_at__gte=since).order_by("-closed_at", "-id")
        column.more_query = _query(
            params, drop=("page", "stage", "status", "on", "next", "part"), view="list", **narrowed
        )
        if column.count:
            first = part.values("pk")[:CARDS_PER_COLUMN]
            parts.append(Opportunity.objects.filter(pk__in=first).order_by().values_list("pk", flat=True))
    ids = list(parts[0].union(*parts[1:], all=True)) if parts else []
    cards = _cards(Opportunity.objects.filter(pk__in=ids), now) if ids else []

    by_column: dict = {}
    for card in cards:
        card.workable = workable is None or card.owner_id in workable
        key = card.stage_id if card.status == Opportunity.Status.OPEN else card.status
        by_column.setdefault(key, []).append(card)
    movable = [s for s in stages if s.is_active and s.kind in (Stage.Kind.OPEN, Stage.Kind.WON)]
    for column in columns:
        if column.kind == "open":
            options = _stage_options(movable, column.stage)
            for card in by_column.get(column.stage.pk, []):
                card.options = options
            column.cards = sorted(by_column.get(column.stage.pk, []), key=_close_date_key)
        else:
            column.cards = sorted(
                by_column.get(column.kind, []), key=lambda c: (c.closed_at, c.pk), reverse=True
            )
    return columns


def _money(amount) -> str:
    """12,000 or 12,000.50: what the cards and rows show (faster than the template filters
    over a board of a few hundred cards)."""
    if amount is None:
        return ""
    text = f"{amount:,.2f}"
    return text[:-3] if text.endswith(".00") else text


def _cards(queryset: QuerySet[Opportunity], now: datetime) -> list[Opportunity]:
    """Cards with what they show, computed here rather than in the template: at a few hundred
    cards the template's url tags and filters were most of the board's time."""
    cards = list(_with_stage_since(queryset.select_related("account", "stage", "owner")).only(*CARD_FIELDS))
    for card in cards:
        card.days_in_stage = _days(card.stage_since, now)
        card.mode, card.error, card.move_form, card.options, card.workable = "view", "", None, "", False
        card.url = reverse("accounts:opportunity", args=[card.pk])
        card.move_url = reverse("accounts:move", args=[card.pk])
        card.details_url = reverse("accounts:details", args=[card.pk])
        card.amount_text = _money(card.amount)
        card.close_text = f"{card.close_date.day} {card.close_date:%b %Y}" if card.close_date else ""
        card.closed_text = f"{card.closed_at.day} {card.closed_at:%b}" if card.closed_at else ""
    return cards


def _stage_options(movable: list[Stage], current: Stage | None) -> str:
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


def _stages() -> tuple[list[Stage], list[Stage], Stage | None]:
    """Every stage (for the board's columns), the stages a card can move to by the select
    (open and won), and the lost stage (which takes its own form). One query."""
    stages = list(Stage.objects.order_by("position", "id"))
    active = [s for s in stages if s.is_active]
    movable = [s for s in active if s.kind in (Stage.Kind.OPEN, Stage.Kind.WON)]
    lost = next((s for s in active if s.kind == Stage.Kind.LOST), None)
    return stages, movable, lost


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
            for row in _with_stage_since(
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
        row.days_in_stage = _days(row.stage_since, now) if row.status == Opportunity.Status.OPEN else None
        row.amount_text = _money(row.amount)
    return page


def _pipeline_context(request) -> tuple[dict, int]:
    user = request.user
    params = request.GET
    view = "list" if params.get("view") == "list" else "board"
    opp_filter = OpportunityFilter(params or None, queryset=_pipeline_scope(user), request=request)
    valid = not opp_filter.is_bound or opp_filter.is_valid()
    now = timezone.now()
    stages, _, lost_stage = _stages()
    board_query = _query(params, drop=("page", "view", "on", "next", "part"))
    context = {
        "filter": opp_filter,
        "valid": valid,
        "view": view,
        "now": now,
        "lost_stage": lost_stage,
        "board_query": board_query,
        "list_query": _query(params, drop=("page", "view", "on", "next", "part"), view="list"),
        "page_query": _query(params, drop=("page", "on", "next", "part")),
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
            sort_close=_query(
                params,
                drop=("page", "on", "next", "part"),
                sort="-close_date" if sort == "close_date" else "close_date",
            ),
            sort_amount=_query(
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
    context, status = _pipeline_context(request)
    if is_htmx(request) and request.headers.get("HX-Target") == "pipeline-results":
        return render(request, "accounts/_pipeline_results.html", context, status=status)
    return render(request, "accounts/pipeline.html", context, status=status)


# --- one opportunity -----------------------------------------------------------------------


def _on(request) -> str:
    """Where a form was sent from: "board" (a card), "inbox" (a row) or "page"."""
    return request.GET.get("on") or request.POST.get("on") or ""


def _meeting_timezone(opportunity: Opportunity) -> ZoneInfo:
    team = opportunity.owner.team
    try:
        return team.calendar.tzinfo if team is not None else ZoneInfo("UTC")
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def _details_initial(opportunity: Opportunity) -> dict:
    return {
        "amount": opportunity.amount,
        "close_date": opportunity.close_date,
        "next_step": opportunity.next_step,
    }


def _page_context(
    request,
    opportunity: Opportunity,
    *,
    error: str = "",
    reject_form=None,
    move_form=None,
    details_form=None,
    lost: bool = False,
) -> dict:
    user = request.user
    now = timezone.now()
    items = list(opportunity.work_items.select_related("policy", "owner").order_by("-created_at", "-id"))
    for item in items:
        item.sla_css, item.sla_text, item.countdown = sla_display(item, now)
    events = list(opportunity.events.select_related("actor")[:200])
    entered = next((e.at for e in events if e.kind in STAGE_EVENTS), opportunity.accepted_at)
    lead = opportunity.lead
    timeline = lead.timeline() if lead is not None else []
    if lead is not None:
        lead.grade_now = lead.grade(now, ScoringSettings.load().half_life_days)
    tz = _meeting_timezone(opportunity)
    can_work = opportunity.status == Opportunity.Status.OPEN and may_work(user, opportunity)
    can_answer = may_answer(user, opportunity)
    context = {
        "opportunity": opportunity,
        "lead": lead,
        "items": items,
        "events": events,
        "timeline": timeline,
        "tz": tz,
        "meeting_local": _local_text(opportunity.proposed_meeting_at, tz, "%a %d %b %Y, %H:%M"),
        "days_in_stage": _days(entered, now) if opportunity.status == Opportunity.Status.OPEN else None,
        "can_work": can_work,
        "can_answer": can_answer,
        "covering": can_answer and user.pk != opportunity.owner_id,
        "read_only": not (can_work or can_answer),
        "error": error,
        "lost": lost or bool(move_form is not None and move_form.data.get("lost_reason") is not None),
        "now": now,
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
    }
    if can_answer:
        context["reject_form"] = reject_form or RejectForm(auto_id="r_%s")
    if can_work:
        _, movable, lost_stage = _stages()
        context.update(
            move_stages=movable,
            lost_stage=lost_stage,
            move_form=move_form or MoveForm(auto_id="m_%s", initial={"stage": opportunity.stage_id}),
            details_form=details_form or DetailsForm(auto_id="d_%s", initial=_details_initial(opportunity)),
        )
    return context


@login_required
@require_GET
def opportunity_page(request, pk):
    """One opportunity: its qualification, source, stage and amounts, its events and its
    lead's timeline, and its work items with their SLA. The actions are shown only to whom
    may use them (the AE, their manager; a waiting handoff to the AE's team)."""
    opportunity = opportunity_for(request.user, pk)
    part = request.GET.get("part") if is_htmx(request) else None
    if part == "panel":
        lead = opportunity.lead
        context = {
            "opportunity": opportunity,
            "timeline": lead.timeline() if lead is not None else [],
            "events": list(opportunity.events.select_related("actor")[:50]),
        }
        return render(request, "accounts/_opportunity_panel.html", context)
    if part == "card" and sees_pipeline(request.user):
        return _card_response(request, opportunity.pk)
    return render(request, "accounts/opportunity.html", _page_context(request, opportunity))


def _card_response(request, pk: int, *, status: int = 200, mode: str = "view", error: str = "", **forms):
    """One board card, in a mode: "view", "lost" (the lost form open) or "edit" (details)."""
    now = timezone.now()
    _, movable, lost_stage = _stages()
    card = _cards(Opportunity.objects.filter(pk=pk), now)[0]
    card.mode = mode
    card.error = error
    owners = workable_owner_ids(request.user)
    card.workable = owners is None or card.owner_id in owners
    card.options = _stage_options(movable, card.stage)
    card.move_form = forms.get("move_form") or MoveForm(auto_id=f"m{pk}_%s")
    card.details_form = forms.get("details_form") or DetailsForm(
        auto_id=f"d{pk}_%s", initial=_details_initial(card)
    )
    context = {
        "card": card,
        "lost_stage": lost_stage,
        "board_query": _query(request.GET, drop=("page", "view", "on", "next", "part")),
        "show_owner": not can_work_pipeline(request.user),
    }
    return render(request, "accounts/_card.html", context, status=status)


def _worked(request, opportunity: Opportunity, notice: str):
    """After a move or an update: the whole board (the card may have changed columns and the
    totals changed) for a card; a redirect back otherwise."""
    if is_htmx(request) and _on(request) == "board":
        context, status = _pipeline_context(request)
        context["notice"] = f"{opportunity.name}: {notice}"
        response = render(request, "accounts/_board.html", context, status=status)
        response["HX-Retarget"] = "#board"
        response["HX-Reswap"] = "outerHTML"
        return response
    messages.success(request, f"{opportunity.name}: {notice}")
    return redirect(_next_url(request, opportunity.get_absolute_url()))


def _work_refused(request, opportunity: Opportunity, exc: AccountsError | None, *, mode: str, **forms):
    """The card (htmx from the board) or the page with the refused form; nothing changed. A
    refusal naming a field goes beside it (400); one about the state goes above (409)."""
    status, error = 400, ""
    if exc is not None:
        status = _refusal_status(exc)
        if exc.field:
            for form in forms.values():
                add_refusal(form, exc)
        else:
            error = str(exc)
    if is_htmx(request) and _on(request) == "board":
        return _card_response(request, opportunity.pk, status=status, mode=mode, error=error, **forms)
    context = _page_context(request, opportunity, error=error, lost=mode == "lost", **forms)
    return render(request, "accounts/opportunity.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def move(request, pk):
    """Move to another stage in one step. GET shows the lost form (a lost stage needs a
    reason); POST moves, or answers with the card (or page) and its errors."""
    opportunity = workable_for(request.user, pk)
    if request.method == "GET":
        if is_htmx(request) and _on(request) == "board":
            return _card_response(request, opportunity.pk, mode="lost")
        return render(request, "accounts/opportunity.html", _page_context(request, opportunity, lost=True))
    form = MoveForm(request.POST, auto_id=f"m{opportunity.pk}_%s")
    lost = request.POST.get("lost_reason") is not None
    if form.is_valid():
        data = form.cleaned_data
        lost = lost or data["stage"].kind == Stage.Kind.LOST
        try:
            moved = services.move_stage(
                opportunity_id=opportunity.pk,
                by=request.user,
                stage_id=data["stage"].pk,
                lost_reason=data["lost_reason"],
                lost_note=data["lost_note"],
                recycle=data["recycle"],
            )
        except AccountsError as exc:
            mode = "lost" if lost else ("edit" if exc.field == "amount" else "view")
            return _work_refused(request, opportunity, exc, mode=mode, move_form=form)
        notice = (
            f"Lost ({moved.lost_reason})"
            if moved.status == Opportunity.Status.LOST
            else f"Moved to {moved.stage}"
        )
        if moved.early_loss:
            notice += ", flagged as an early loss"
        return _worked(request, moved, notice)
    return _work_refused(request, opportunity, None, mode="lost" if lost else "view", move_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def details(request, pk):
    """Edit the amount, expected close date and next step. GET gives the card's form."""
    opportunity = workable_for(request.user, pk)
    if request.method == "GET":
        if is_htmx(request) and _on(request) == "board":
            return _card_response(request, opportunity.pk, mode="edit")
        return redirect(opportunity.get_absolute_url())
    form = DetailsForm(request.POST, auto_id=f"d{opportunity.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.update_opportunity(
                opportunity_id=opportunity.pk,
                by=request.user,
                amount=data["amount"],
                close_date=data["close_date"],
                next_step=data["next_step"],
            )
        except AccountsError as exc:
            return _work_refused(request, opportunity, exc, mode="edit", details_form=form)
        return _worked(request, opportunity, "Saved")
    return _work_refused(request, opportunity, None, mode="edit", details_form=form)


# --- the manager's early losses ----------------------------------------------------------------


@login_required
@require_GET
def early_losses(request):
    """Opportunities lost soon after the AE accepted them, in the teams a manager runs (by the
    AE's team or the SDR's), with counts by SDR, and the handoffs AEs rejected, by reason."""
    user = request.user
    if not reviews_early_losses(user):
        raise PermissionDenied("Early losses are for managers.")
    period = request.GET.get("period") or "90"
    status = 200
    if period not in PERIODS:
        period, status = "90", 400
    days = PERIODS[period]
    since = timezone.now() - timedelta(days=days) if days else None
    # Handoffs only: renewals and upsells are the AMs' and never handed off.
    scope = Opportunity.objects.visible_to(user).filter(kind=Opportunity.Kind.NEW_BUSINESS)

    losses = scope.filter(early_loss=True)
    rejected = scope.filter(status=Opportunity.Status.REJECTED)
    accepted_q, rejected_q = Q(accepted_at__isnull=False), Q(rejected_at__isnull=False)
    if since is not None:
        losses = losses.filter(closed_at__gte=since)
        rejected = rejected.filter(rejected_at__gte=since)
        accepted_q, rejected_q = Q(accepted_at__gte=since), Q(rejected_at__gte=since)

    rows = (
        losses.select_related("sdr", "owner", "campaign", "account")
        .annotate(to_loss=ExpressionWrapper(F("closed_at") - F("accepted_at"), output_field=DurationField()))
        .order_by("-closed_at", "-id")
    )
    page = Paginator(rows, LOSSES_PER_PAGE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.days_to_loss = row.to_loss.days if row.to_loss is not None else None
    by_sdr = list(
        losses.order_by()
        .values("sdr", "sdr__first_name", "sdr__last_name", "sdr__username")
        .annotate(n=Count("pk"))
        .order_by("-n", "sdr__first_name", "sdr__username")
    )
    for row in by_sdr:
        full = f"{row['sdr__first_name'] or ''} {row['sdr__last_name'] or ''}".strip()
        row["name"] = full or row["sdr__username"] or "No SDR"
    reasons = list(
        rejected.order_by().values("reject_reason").annotate(n=Count("pk")).order_by("-n", "reject_reason")
    )
    answers = scope.aggregate(
        accepted=Count("pk", filter=accepted_q), rejected=Count("pk", filter=rejected_q)
    )
    answered = answers["accepted"] + answers["rejected"]
    context = {
        "page": page,
        "by_sdr": by_sdr,
        "reasons": reasons,
        "answers": answers,
        "answered": answered,
        "acceptance_rate": round(100 * answers["accepted"] / answered) if answered else None,
        "period": period,
        "periods": [("30", "30 days"), ("90", "90 days"), ("365", "12 months"), ("all", "All time")],
        "period_error": "Choose a period from the list." if status == 400 else "",
        "query": _query(request.GET),
    }
    return render(request, "accounts/early_losses.html", context, status=status)
