"""Bulk actions on leads chosen on the lead list: assign, nurture, disqualify, enroll in a
cadence. Each action runs in one transaction, every lead through the same service its single
version uses (``reassign_leads``, ``dispose_lead``, ``cadences.enroll``: the timeline, the
work items and SLA timers, what insight reads), each lead in a savepoint of its own, so a
lead that is refused (not allowed, or its status does not allow the move) is left exactly as
it was and reported, and the others go ahead. Assigning is one set-based call for all the
leads allowed. The leads are locked in id order first, and each is checked under its lock
(``sdr.access``).

The caller passes ids it has already narrowed to the leads the person sees on the list."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from kit.errors import Refused
from leads.models import Lead
from leads.services import IN_SALES
from team.models import User

from ..access import may_assign_lead, may_dispose_lead, teams_of
from . import cadences
from .common import SdrError
from .reassignment import reassign_leads
from .touches import DISPOSITIONS, dispose_lead

# The most leads one bulk action changes (a savepoint and the services' work per lead): a
# larger "all matching" selection is refused whole with the count, so the person narrows it.
MAX_BULK_LEADS = 1000


@dataclass(frozen=True)
class RowOutcome:
    """What happened to one lead: done (with what was done) or refused (with why)."""

    lead_id: int
    label: str
    message: str


@dataclass
class BulkReport:
    """An action's per-lead report, in the order the leads were locked (by id)."""

    done: list[RowOutcome] = field(default_factory=list)
    refused: list[RowOutcome] = field(default_factory=list)


def _locked(lead_ids: Sequence[int]) -> list[Lead]:
    if len(lead_ids) > MAX_BULK_LEADS:
        raise SdrError(f"Choose at most {MAX_BULK_LEADS:,} leads at a time ({len(lead_ids):,} chosen).")
    return list(
        Lead.objects.select_for_update(of=("self",))
        .select_related("owner")
        .filter(pk__in=list(lead_ids))
        .order_by("id")
    )


def _each(leads: Sequence[Lead], report: BulkReport, act: Callable[[Lead], str]) -> None:
    """``act`` on each lead in a savepoint: its message when done; a refusal rolls back what
    it had written for that lead and is reported."""
    for lead in leads:
        try:
            with transaction.atomic():
                message = act(lead)
        except Refused as exc:
            report.refused.append(RowOutcome(lead.pk, str(lead), str(exc)))
        else:
            report.done.append(RowOutcome(lead.pk, str(lead), message))


def bulk_dispose(*, lead_ids: Sequence[int], by: User, to: str, reason: str, note: str = "") -> BulkReport:
    """Move the leads to nurture or disqualify them, with one reason (and note) for all."""
    if to not in DISPOSITIONS:
        raise SdrError("A disposition is nurture or disqualify.", "action")
    if reason not in DISPOSITIONS[to]:
        raise SdrError(f"Choose a reason: {', '.join(DISPOSITIONS[to])}.", "reason")
    report = BulkReport()
    done = "Back to nurture" if to == Lead.Status.NURTURE else "Disqualified"
    with transaction.atomic():
        leads = _locked(lead_ids)
        team_ids = set(teams_of(by).values_list("pk", flat=True)) if not by.is_sdr else set()

        def act(lead: Lead) -> str:
            if not may_dispose_lead(by, lead, team_ids):
                raise SdrError(
                    "It is in an SDR's hands outside your teams."
                    if lead.status in IN_SALES
                    else "You may not change this lead."
                )
            if lead.status == to:
                raise SdrError(f"It is already {lead.get_status_display().lower()}.")
            dispose_lead(lead_id=lead.pk, by=by, to=to, reason=reason, note=note)
            return f"{done}: {reason}."

        _each(leads, report, act)
    return report


def bulk_assign(*, lead_ids: Sequence[int], to: User | None, by: User, reason: str) -> BulkReport:
    """Give the leads to a rep (``None``: round-robin in each lead's team) in one
    ``reassign_leads`` call for all the leads the manager may move; the others are reported."""
    report = BulkReport()
    now = timezone.now()
    with transaction.atomic():
        leads = _locked(lead_ids)
        team_ids = set(teams_of(by).values_list("pk", flat=True))
        movable = []
        for lead in leads:
            if not may_assign_lead(by, lead, team_ids):
                report.refused.append(RowOutcome(lead.pk, str(lead), "It is not in a team you manage."))
            elif lead.status not in IN_SALES:
                message = f"A lead in {lead.get_status_display()} is not in a queue; only MQL and working leads move."
                report.refused.append(RowOutcome(lead.pk, str(lead), message))
            elif to is not None and lead.owner_id == to.pk:
                report.refused.append(RowOutcome(lead.pk, str(lead), f"It is already {to}'s."))
            else:
                movable.append(lead)
        moved = (
            reassign_leads(lead_ids=[lead.pk for lead in movable], to=to, by=by, reason=reason, now=now)
            if movable
            else {}
        )
        names = {
            user.pk: str(user) for user in User.objects.filter(pk__in={pk for pk in moved.values() if pk})
        }
        for lead in movable:
            if lead.pk not in moved:
                report.refused.append(
                    RowOutcome(lead.pk, str(lead), "Nobody else in its team can take it now.")
                )
            elif (owner_id := moved[lead.pk]) is None:
                report.done.append(RowOutcome(lead.pk, str(lead), "Waits in its team's unassigned queue."))
            else:
                report.done.append(RowOutcome(lead.pk, str(lead), f"Now {names[owner_id]}'s."))
    return report


def bulk_enroll(*, lead_ids: Sequence[int], cadence_id: int, by: User) -> BulkReport:
    """Enroll the leads in a cadence (``cadences.enroll`` checks who may, under the lock)."""
    report = BulkReport()
    now = timezone.now()
    with transaction.atomic():
        leads = _locked(lead_ids)

        def act(lead: Lead) -> str:
            enrollment = cadences.enroll(lead_id=lead.pk, cadence_id=cadence_id, by=by, now=now)
            return f"Enrolled in {enrollment.cadence}."

        _each(leads, report, act)
    return report
