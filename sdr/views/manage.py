"""A manager's pages: their teams (reps' load, the unassigned queue) and reassigning a lead
or a whole queue. A rep's queue itself is the queue page's ``?rep=`` view. Thin: authorize,
call one service, render."""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q, QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from kit.counting import correlated_count
from kit.errors import Refused
from kit.htmx import is_htmx
from leads.models import Lead, ScoringSettings
from leads.services import IN_SALES
from team.models import Team, User
from work.models import WorkItem

from .. import services
from ..access import may_manage_queues, queue_lead_for, reps_of, teams_of
from ..forms import ReassignLeadForm, ReassignQueueForm
from ..queue import QUEUE_LIMIT, unassigned_for


def _require_manager(request) -> None:
    if not may_manage_queues(request.user):
        raise PermissionDenied("Only managers see team queues.")


def reps_with_load(team_ids, now) -> QuerySet[User]:
    """The teams' reps with their open leads, open work items and breached open items. A rep
    who left (inactive) is listed while they still hold leads, so their queue can be moved."""
    open_items = WorkItem.objects.open().filter(owner=OuterRef("pk"))
    return (
        User.objects.filter(team_id__in=team_ids, role__in=services.SDR_ROLES)
        .annotate(
            open_leads=correlated_count(
                Lead.objects.filter(owner=OuterRef("pk"), status__in=IN_SALES), "owner"
            ),
            open_items=correlated_count(open_items, "owner"),
            breached_items=correlated_count(
                open_items.filter(policy__isnull=False).filter(
                    Q(breached_at__isnull=False) | Q(due_at__lte=now)
                ),
                "owner",
            ),
        )
        .filter(Q(is_active=True) | Q(open_leads__gt=0))
        .order_by("first_name", "last_name", "username")
    )


@dataclass(frozen=True)
class WaitingLead:
    """A lead waiting in a team's unassigned queue: its work item, grade now and SLA state."""

    item: WorkItem
    grade: str
    sla: str

    @property
    def lead(self) -> Lead:
        return self.item.subject  # type: ignore[return-value]  # team_queues leaves out items whose lead is gone


@dataclass(frozen=True)
class TeamQueues:
    """One team on a manager's teams page: its reps (with their load, annotated by
    ``reps_with_load``) and the leads nobody could take."""

    team: Team
    reps: list[User]
    waiting: list[WaitingLead]


def team_queues(
    teams: Iterable[Team], reps: Iterable[User], items: Sequence[WorkItem], now: datetime
) -> list[TeamQueues]:
    """The teams page's cards, in the order of ``teams``. Items whose lead is gone are left
    out; the engagement half-life is read once (no query per row)."""
    items = [item for item in items if item.subject is not None]
    half_life = ScoringSettings.load().half_life_days if items else None
    reps_by_team: dict[int | None, list[User]] = defaultdict(list)
    waiting_by_team: dict[int | None, list[WaitingLead]] = defaultdict(list)
    for rep in reps:
        reps_by_team[rep.team_id].append(rep)
    for item in items:
        lead = item.subject
        assert lead is not None  # left out above
        row = WaitingLead(item=item, grade=lead.grade(now, half_life), sla=item.sla_state(now))
        waiting_by_team[item.team_id].append(row)
    return [
        TeamQueues(team=team, reps=reps_by_team[team.pk], waiting=waiting_by_team[team.pk]) for team in teams
    ]


@login_required
def teams(request):
    """The manager's teams: each rep's load and SLA state, and the leads nobody could take."""
    _require_manager(request)
    now = timezone.now()
    team_list = list(
        teams_of(request.user)
        .filter(kind__in=[Team.Kind.INBOUND, Team.Kind.OUTBOUND])
        .select_related("calendar")
        .order_by("name")
    )
    team_ids = [team.pk for team in team_list]
    reps = list(reps_with_load(team_ids, now)) if team_ids else []
    waiting = list(unassigned_for(team_ids, now)[: QUEUE_LIMIT + 1]) if team_ids else []
    truncated = len(waiting) > QUEUE_LIMIT
    cards = team_queues(team_list, reps, waiting[:QUEUE_LIMIT], now)
    context = {"teams": cards, "now": now, "truncated": truncated}
    template = "sdr_manage/_teams.html" if is_htmx(request) else "sdr_manage/teams.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def reassign_lead(request, lead_id):
    """Give one lead to a rep of the manager's teams, or to the next rep of its team."""
    _require_manager(request)
    lead = queue_lead_for(request.user, lead_id)
    form = ReassignLeadForm(request.POST or None, manager=request.user, lead=lead)
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.reassign_leads(
                lead_ids=[lead.pk],
                to=form.cleaned_data["to"],
                by=request.user,
                reason=form.cleaned_data["reason"],
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _lead_moved_message(lead, moved))
            return redirect("sdr_manage:teams")
    status = 400 if form.is_bound else 200
    return render(request, "sdr_manage/reassign_lead.html", {"lead": lead, "form": form}, status=status)


def _lead_moved_message(lead: Lead, moved: dict[int, int | None]) -> str:
    if lead.pk not in moved:
        return f"{lead} stays where it is: nobody else in {lead.team} can take it now."
    owner_id = moved[lead.pk]
    if owner_id is None:
        return f"{lead} waits in the unassigned queue of {lead.team}: nobody else there can take it now."
    return f"{lead} now belongs to {User.objects.get(pk=owner_id)}."


@login_required
@require_http_methods(["GET", "POST"])
def reassign_queue(request, rep_id):
    """Move every open lead of a rep who leaves (or is away) to a rep, or round-robin."""
    _require_manager(request)
    rep = get_object_or_404(reps_of(request.user).select_related("team"), pk=rep_id)
    form = ReassignQueueForm(request.POST or None, manager=request.user, from_rep=rep)
    if request.method == "POST" and form.is_valid():
        try:
            moved = services.reassign_queue(
                from_user=rep, to=form.cleaned_data["to"], by=request.user, reason=form.cleaned_data["reason"]
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _queue_moved_message(rep, moved))
            return redirect("sdr_manage:teams")
    open_leads = Lead.objects.filter(owner=rep, status__in=IN_SALES).count()
    context = {"rep": rep, "form": form, "open_leads": open_leads}
    return render(request, "sdr_manage/reassign_queue.html", context, status=400 if form.is_bound else 200)


def _queue_moved_message(rep: User, moved: dict[int, int | None]) -> str:
    if not moved:
        return f"{rep} holds no open leads; nothing moved."
    shares = Counter(owner for owner in moved.values() if owner is not None)
    names = {user.pk: str(user) for user in User.objects.filter(pk__in=list(shares))}
    parts = [f"{names[pk]} {n}" for pk, n in sorted(shares.items(), key=lambda s: (-s[1], names[s[0]]))]
    waiting = sum(1 for owner in moved.values() if owner is None)
    message = f"Moved {len(moved)} lead{'s' if len(moved) != 1 else ''} from {rep}"
    message += f": {', '.join(parts)}" if parts else ""
    if waiting:
        message += (
            f"; {waiting} wait{'s' if waiting == 1 else ''} in the unassigned queue (nobody had capacity)"
        )
    return message + "."
