"""One opportunity's page (its qualification, events, lead's timeline and work items) and its
actions: move to another stage, edit the working details. From the board a form posts with
htmx and gets back its card (refused), the two columns a move changed (moved: their totals and
cards, and the line for the board's live region) or the whole board (details saved); from the
page, a redirect back (done) or the page with the errors (400 for input, 409 for a move the
state refuses).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kit.errors import Refused, add_refusal
from kit.htmx import is_htmx
from kit.pages import query_string, safe_next
from leads.models import ScoringSettings
from leads.presenters import scored
from sdr.views import item_lines
from team.zones import user_zone

from .. import services
from ..access import (
    can_work_pipeline,
    may_answer,
    may_log_on_opportunity,
    may_work,
    opportunity_for,
    sees_pipeline,
    workable_for,
    workable_owner_ids,
)
from ..forms.activities import LogWorkForm
from ..forms.pipeline import DetailsForm, MoveForm, RejectForm
from ..models import Activity, Opportunity, Stage
from ..presenters.pipeline import board_card, days_since, stage_options
from ..presenters.work_log import WorkEntry, WorkLog, newest
from .common import STAGE_EVENTS, on, pipeline_stages
from .pipeline import card_opportunities, pipeline_context
from .work_log import post_work_log


def _details_initial(opportunity: Opportunity) -> dict:
    return {
        "amount": opportunity.amount,
        "close_date": opportunity.close_date,
        "next_step": opportunity.next_step,
    }


def page_context(
    request,
    opportunity: Opportunity,
    *,
    error: str = "",
    reject_form=None,
    move_form=None,
    details_form=None,
    lost: bool = False,
    log_form=None,
) -> dict:
    user = request.user
    now = timezone.now()
    items = item_lines(
        opportunity.work_items.select_related("policy", "owner").order_by("-created_at", "-id"), now
    )
    events = list(opportunity.events.select_related("actor")[:200])
    entered = next((e.at for e in events if e.kind in STAGE_EVENTS), opportunity.accepted_at)
    lead = opportunity.lead
    timeline = lead.timeline() if lead is not None else []
    # The lead's grade now (the settings are read only for a page with a lead).
    lead_scored = scored([lead], ScoringSettings.load(), now=now)[0] if lead is not None else None
    can_work = opportunity.status == Opportunity.Status.OPEN and may_work(user, opportunity)
    can_answer = may_answer(user, opportunity)
    context = {
        "opportunity": opportunity,
        "lead": lead,
        "scored": lead_scored,
        "items": items,
        "events": events,
        "timeline": timeline,
        "days_in_stage": days_since(entered, now) if opportunity.status == Opportunity.Status.OPEN else None,
        "can_work": can_work,
        "can_answer": can_answer,
        "covering": can_answer and user.pk != opportunity.owner_id,
        "read_only": not (can_work or can_answer),
        "error": error,
        "lost": lost or bool(move_form is not None and move_form.data.get("lost_reason") is not None),
        "now": now,
        "risk_minutes": settings.WORK_AT_RISK_MINUTES,
        "log": work_log(request, opportunity, form=log_form),
    }
    if can_answer:
        context["reject_form"] = reject_form or RejectForm(auto_id="r_%s")
    if can_work:
        _, movable, lost_stage = pipeline_stages()
        context.update(
            move_stages=movable,
            lost_stage=lost_stage,
            move_form=move_form or MoveForm(auto_id="m_%s", initial={"stage": opportunity.stage_id}),
            details_form=details_form or DetailsForm(auto_id="d_%s", initial=_details_initial(opportunity)),
        )
    return context


def work_log(request, opportunity: Opportunity, *, form=None, notice: str = "") -> WorkLog:
    """The calls, meetings and notes logged on the opportunity (one query), and the form for
    whoever works it."""
    rows, more = newest(Activity.objects.filter(opportunity=opportunity).select_related("actor")[:51])
    may_log = may_log_on_opportunity(request.user, opportunity)
    return WorkLog(
        entries=[WorkEntry(activity) for activity in rows],
        more=more,
        zone=user_zone(request.user),
        post_url=reverse("accounts:log_work", args=[opportunity.pk]),
        form=(form or LogWorkForm(auto_id="w_%s")) if may_log else None,
        notice=notice,
    )


@login_required
@require_POST
def log_work(request, pk):
    """Log a call, a meeting or a note on the opportunity (its AE, their manager, an AM on
    their own upsell). With htmx the section comes back: the new entry on top (200), or the
    form with its errors (400); without, a redirect back or the page with the errors."""
    opportunity = opportunity_for(request.user, pk)
    if not may_log_on_opportunity(request.user, opportunity):
        raise PermissionDenied("Only whoever works this opportunity logs work on it.")
    return post_work_log(
        request,
        log=lambda **entry: services.log_work(opportunity_id=opportunity.pk, by=request.user, **entry),
        section=lambda **shown: work_log(request, opportunity, **shown),
        page=lambda form: render(
            request,
            "accounts/opportunity.html",
            page_context(request, opportunity, log_form=form),
            status=400,
        ),
        back=opportunity.get_absolute_url(),
    )


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
        return card_response(request, opportunity.pk)
    return render(request, "accounts/opportunity.html", page_context(request, opportunity))


def card_response(request, pk: int, *, status: int = 200, mode: str = "view", error: str = "", **forms):
    """One board card, in a mode: "view", "lost" (the lost form open) or "edit" (details)."""
    now = timezone.now()
    _, movable, lost_stage = pipeline_stages()
    opportunity = card_opportunities(Opportunity.objects.filter(pk=pk))[0]
    owners = workable_owner_ids(request.user)
    card = board_card(
        opportunity,
        now,
        mode=mode,
        error=error,
        workable=owners is None or opportunity.owner_id in owners,
        options=stage_options(movable, opportunity.stage),
        move_form=forms.get("move_form") or MoveForm(auto_id=f"m{pk}_%s"),
        details_form=forms.get("details_form")
        or DetailsForm(auto_id=f"d{pk}_%s", initial=_details_initial(opportunity)),
    )
    context = {
        "card": card,
        "lost_stage": lost_stage,
        "board_query": query_string(request.GET, drop=("page", "view", "on", "next", "part")),
        "show_owner": not can_work_pipeline(request.user),
    }
    return render(request, "accounts/_card.html", context, status=status)


def _worked(request, opportunity: Opportunity, notice: str):
    """After a move or an update: the whole board (the card may have changed columns and the
    totals changed) for a card; a redirect back otherwise."""
    if is_htmx(request) and on(request) == "board":
        context, status = pipeline_context(request)
        context["notice"] = f"{opportunity.name}: {notice}"
        response = render(request, "accounts/_board.html", context, status=status)
        response["HX-Retarget"] = "#board"
        response["HX-Reswap"] = "outerHTML"
        return response
    messages.success(request, f"{opportunity.name}: {notice}")
    return redirect(safe_next(request, opportunity.get_absolute_url()))


def _moved(request, left_stage_id: int | None, moved: Opportunity, notice: str):
    """After a move from the board: the column the card left and the one it joined, each with
    its totals and first cards as the whole board would show them (same filters), and the
    notice for the board's live region; the rest of the board stays as it is (and the focus
    with it). The whole board when the columns themselves changed (a retired stage's column
    goes when its last card leaves)."""
    if not (is_htmx(request) and on(request) == "board"):
        return _worked(request, moved, notice)
    context, status = pipeline_context(request)
    columns = {column.dom_id: column for column in context.get("columns", [])}
    left = columns.get(f"col-{left_stage_id}")
    joined = columns.get(
        f"col-{moved.stage_id}" if moved.status == Opportunity.Status.OPEN else f"col-{moved.status}"
    )
    if status != 200 or left is None or joined is None or left is joined:
        return _worked(request, moved, notice)
    context.update(left=left, joined=joined, notice=f"{moved.name}: {notice}")
    response = render(request, "accounts/_board_moved.html", context, status=status)
    response["HX-Retarget"] = f"#{left.dom_id}"
    response["HX-Reswap"] = "outerHTML"
    return response


def _work_refused(request, opportunity: Opportunity, exc: Refused | None, *, mode: str, **forms):
    """The card (htmx from the board) or the page with the refused form; nothing changed. A
    refusal naming a field goes beside it (400); one about the state goes above (409)."""
    status, error = 400, ""
    if exc is not None:
        status = exc.status
        if exc.field:
            for form in forms.values():
                add_refusal(form, exc)
        else:
            error = str(exc)
    if is_htmx(request) and on(request) == "board":
        return card_response(request, opportunity.pk, status=status, mode=mode, error=error, **forms)
    context = page_context(request, opportunity, error=error, lost=mode == "lost", **forms)
    return render(request, "accounts/opportunity.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def move(request, pk):
    """Move to another stage in one step. GET shows the lost form (a lost stage needs a
    reason); POST moves, or answers with the card (or page) and its errors."""
    opportunity = workable_for(request.user, pk)
    if request.method == "GET":
        if is_htmx(request) and on(request) == "board":
            return card_response(request, opportunity.pk, mode="lost")
        return render(request, "accounts/opportunity.html", page_context(request, opportunity, lost=True))
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
        except Refused as exc:
            mode = "lost" if lost else ("edit" if exc.field == "amount" else "view")
            return _work_refused(request, opportunity, exc, mode=mode, move_form=form)
        notice = (
            f"Lost ({moved.lost_reason})"
            if moved.status == Opportunity.Status.LOST
            else f"Moved to {moved.stage}"
        )
        if moved.early_loss:
            notice += ", flagged as an early loss"
        return _moved(request, opportunity.stage_id, moved, notice)
    return _work_refused(request, opportunity, None, mode="lost" if lost else "view", move_form=form)


@login_required
@require_http_methods(["GET", "POST"])
def details(request, pk):
    """Edit the amount, expected close date and next step. GET gives the card's form."""
    opportunity = workable_for(request.user, pk)
    if request.method == "GET":
        if is_htmx(request) and on(request) == "board":
            return card_response(request, opportunity.pk, mode="edit")
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
        except Refused as exc:
            return _work_refused(request, opportunity, exc, mode="edit", details_form=form)
        return _worked(request, opportunity, "Saved")
    return _work_refused(request, opportunity, None, mode="edit", details_form=form)
