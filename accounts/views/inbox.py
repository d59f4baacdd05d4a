"""The AE's inbox: the handoffs waiting for an answer, most urgent first, and those waiting
for a teammate (a colleague may cover); accept and reject.

Forms post with htmx and get back the row (or the notice that replaces it); without JavaScript
the same forms post to the same URLs: success redirects back, a refusal renders the page it came
from with the errors (400 for input, 409 for an answer the state refuses).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Count,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kit.errors import Refused, add_refusal
from kit.htmx import is_htmx
from kit.live import live_etag, mark, not_modified, poll_seconds
from kit.pages import safe_next
from leads.models import ScoringSettings
from work.models import WorkItem

from .. import services
from ..access import (
    can_work_pipeline,
    handoff_for,
    opportunity_for,
    team_handoffs,
    teammate_ids,
)
from ..forms.pipeline import RejectForm
from ..models import Opportunity
from ..presenters.inbox import REJECT_OPTIONS, InboxRow, inbox_rows, with_refusal
from .common import on
from .opportunity import page_context

# An inbox is short by design (each handoff is answered within a business day); the cap
# only bounds a page nobody has answered for weeks.
# Rows the inbox renders: rendering, not SQL, is what a long inbox costs (make bench: 128
# pending handoffs and 100 teammates' took 820 ms at p95), so the teammates' rows are compact.
INBOX_LIMIT = 25
TEAM_LIMIT = 10


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


def _inbox_context(request, refused: dict | None = None) -> dict:
    user = request.user
    now = timezone.now()
    half_life = ScoringSettings.load().half_life_days
    mine = inbox_rows(
        _inbox_rows(Opportunity.objects.inbox().filter(owner=user))[:INBOX_LIMIT], now, half_life
    )
    team = inbox_rows(_inbox_rows(team_handoffs(user))[:TEAM_LIMIT], now, half_life)
    counts = _pending(user)
    refused = refused or {}
    if refused:
        pk, error, form = refused.get("pk"), refused.get("error", ""), refused.get("form")
        mine, team = with_refusal(mine, pk, error, form), with_refusal(team, pk, error, form)
    return {
        "mine": mine,
        "team": team,
        "now": now,
        "refused": refused,
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
        "reject_options": REJECT_OPTIONS,
        "mine_total": counts["mine"],
        "team_total": counts["team"],
        "live_etag": _etag(request, counts),
        "live_interval": poll_seconds(),
    }


def _pending(user) -> dict:
    """How many handoffs wait in all (the rows shown are the oldest few), and a fingerprint of
    which (the inbox's live version, ``kit.live``): one aggregate over the pending index."""
    pending = Opportunity.objects.inbox()
    pending = pending.filter(owner_id__in=teammate_ids(user)) if user.team_id else pending.filter(owner=user)
    return pending.aggregate(
        mine=Count("pk", filter=Q(owner=user)),
        team=Count("pk", filter=~Q(owner=user)),
        mine_ids=Sum("pk", filter=Q(owner=user)),
        ids=Sum("pk"),
        last=Max("pk"),
    )


def _etag(request, counts: dict) -> str:
    return live_etag(request, "accounts.inbox", [counts[key] for key in sorted(counts)])


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


@login_required
@require_GET
def inbox_live(request):
    """What the open inbox polls: 304 while the handoffs waiting for the AE and their team are
    the same, else both lists again."""
    _require_ae(request.user)
    etag = _etag(request, _pending(request.user))
    unchanged = not_modified(request, etag)
    if unchanged is not None:
        return unchanged
    context = _inbox_context(request)
    return mark(render(request, "accounts/_inbox_lists.html", context), context["live_etag"])


def _inbox_row(request, pk: int) -> InboxRow:
    """One row as the inbox shows it, in whatever state it is now."""
    rows = _inbox_rows(Opportunity.objects.filter(pk=pk))
    return inbox_rows(rows, timezone.now(), ScoringSettings.load().half_life_days)[0]


def _answered(request, opportunity: Opportunity, notice: str):
    if is_htmx(request):
        context = {"opportunity": opportunity, "notice": notice}
        return render(request, "accounts/_inbox_done.html", context)
    messages.success(request, f"{opportunity.name}: {notice}")
    return redirect(safe_next(request, reverse("accounts:inbox")))


def _answer_refused(request, opportunity: Opportunity, status: int, error: str = "", form=None):
    """The row (htmx) or the page the answer came from, with the refusal; nothing changed."""
    if is_htmx(request):
        row = _inbox_row(request, opportunity.pk).refused(error, form)
        context = {"row": row, "reject_options": REJECT_OPTIONS}
        return render(request, "accounts/_inbox_row.html", context, status=status)
    if on(request) == "page":
        try:
            shown = opportunity_for(request.user, opportunity.pk)
        except Http404:
            pass  # a colleague took it over meanwhile: say so on the inbox
        else:
            context = page_context(request, shown, error=error, reject_form=form)
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
    except Refused as exc:
        return _answer_refused(request, opportunity, exc.status, error=str(exc))
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
    except Refused as exc:
        if exc.field:
            add_refusal(form, exc)
        return _answer_refused(
            request, opportunity, exc.status, error="" if exc.field else str(exc), form=form
        )
    back_to = opportunity.sdr or "the SDR"
    return _answered(request, opportunity, f"Rejected ({form.cleaned_data['reason']}): back to {back_to}")
