"""The renewal windows: the daily run opens a contract's renewal when its start window
begins (an opportunity for the AM, "start the conversation" under its SLA, a timer to the last
day) and reminds the AM at the reminder window when nobody has logged a conversation.

The run is exactly-once by construction: a window is claimed for a contract by inserting its
``RenewalStep`` row (unique per contract and window) with ``ON CONFLICT DO NOTHING
RETURNING``, and only the contracts whose rows this transaction inserted get items. A second
worker running at the same time waits on the unique index until the first commits, then finds
the rows taken. A day the task did not run is caught up by the next run: windows are "the end
date is at most N days away", not "exactly N days away".

The reminder emails go out after their batch has committed, never inside it: the claimed
contracts stay locked and the claim's step rows uncommitted until the transaction ends, so a
mail server taking its time would hold every AM recording a conversation on those contracts,
and every other run waiting on the unique index, for as long as it took. An email the server
refuses gives its reminders back (steps, items and events deleted) for the next run to send,
as a refusal inside the transaction used to roll them back.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Account, Opportunity, OpportunityEvent, Qualification
from accounts.services import first_stage
from kit.display import day_text, money_text
from kit.mailing import send_claimed
from notifications.models import Kind
from notifications.services import News, notify
from team.models import User
from work import services as work
from work.models import SlaPolicy, WorkItem

from ..models import AccountEvent, Contract, RenewalSettings, RenewalStep
from .base import BATCH, CATCH_UP_DAYS, renewal_policies


@dataclass
class RenewalRun:
    opened: list[int] = field(default_factory=list)  # contracts whose renewal opened
    reminded: list[int] = field(default_factory=list)  # contracts reminded (item + email)
    skipped: list[int] = field(default_factory=list)  # reminder not needed: they talked already
    auto_renewed: list[int] = field(default_factory=list)
    emails: int = 0

    def as_dict(self) -> dict:
        return {
            "opened": len(self.opened),
            "reminded": len(self.reminded),
            "skipped": len(self.skipped),
            "auto_renewed": len(self.auto_renewed),
            "emails": self.emails,
        }


# An AM's reminder email and the contracts it names (their reminders, committed).
Reminder = tuple[list[int], EmailMessage]

_T_CONTRACT = Contract._meta.db_table
_T_STEP = RenewalStep._meta.db_table
_T_ACCOUNT = Account._meta.db_table

# One statement claims a window for a batch of contracts: their step rows are inserted, and
# only the rows this statement inserted come back. The same SQL runs on PostgreSQL and
# SQLite (3.35+); the dates are computed in Python.
_CLAIM_SQL = f"""
INSERT INTO {_T_STEP} (contract_id, step, result, done_at)
SELECT c.id, %(step)s, 'opened', %(now)s
FROM {_T_CONTRACT} AS c JOIN {_T_ACCOUNT} AS a ON a.id = c.account_id
WHERE c.status = 'active' AND c.end_date <= %(until)s AND c.end_date >= %(since)s
  AND a.account_manager_id IS NOT NULL
  {{only}}
  AND NOT EXISTS (SELECT 1 FROM {_T_STEP} AS s WHERE s.contract_id = c.id AND s.step = %(step)s)
  {{after_start}}
ORDER BY c.end_date, c.id
LIMIT %(limit)s
ON CONFLICT (contract_id, step) DO NOTHING
RETURNING contract_id
"""


def _claim(
    step: str, *, until: date, since: date, now: datetime, limit: int, only: Sequence[int] | None
) -> list[int]:
    params: dict[str, Any] = {"step": step, "now": now, "until": until, "since": since, "limit": limit}
    only_sql = ""
    if only is not None:
        placeholders = ", ".join(f"%(c{i})s" for i in range(len(only)))
        only_sql = f"AND c.id IN ({placeholders})"
        params.update({f"c{i}": pk for i, pk in enumerate(only)})
    after_start = ""
    if step == RenewalStep.Step.REMINDER:
        # The reminder follows the opening: a contract still waiting for an AM waits for both.
        after_start = (
            f"AND EXISTS (SELECT 1 FROM {_T_STEP} AS o WHERE o.contract_id = c.id AND o.step = 'start')"
        )
    sql = _CLAIM_SQL.format(only=only_sql, after_start=after_start)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def open_windows(*, contract_ids: Sequence[int], now: datetime | None = None) -> RenewalRun:
    """Open at once the windows these (new) contracts are already inside: a contract signed
    40 days before its end gets its renewal today, not at tomorrow's run."""
    run = RenewalRun()
    if contract_ids:
        open_due_windows(run, now=now or timezone.now(), only=list(contract_ids), batch_size=BATCH)
    return run


def open_due_windows(run: RenewalRun, *, now: datetime, only: list[int] | None, batch_size: int) -> None:
    """Claim and open every window that has started (of the contracts ``only`` names, or all),
    start windows before reminders, a transaction per batch of ``batch_size``; what was done
    is added to ``run``."""
    windows = RenewalSettings.load()
    today = timezone.localdate(now)
    since = today - timedelta(days=CATCH_UP_DAYS)
    policies = renewal_policies()
    for step, days, handler in (
        (RenewalStep.Step.START, windows.start_days, _open_renewals),
        (RenewalStep.Step.REMINDER, windows.reminder_days, _remind),
    ):
        until = today + timedelta(days=days)
        chunks = [only[i : i + batch_size] for i in range(0, len(only), batch_size)] if only else [None]
        for chunk in chunks:
            while True:
                with transaction.atomic():
                    claimed = _claim(step, until=until, since=since, now=now, limit=batch_size, only=chunk)
                    if not claimed:
                        break
                    reminders = handler(run, claimed, now, policies)
                # Committed: the contracts and the steps are free before the mail server is asked.
                if reminders and not _send_reminders(run, reminders, now):
                    return  # the server refused: what is left waits for the next run
                if chunk is not None:
                    break


def _contracts(ids: Sequence[int]) -> list[Contract]:
    """The claimed contracts, locked, that are still active: an outcome or a conversation
    being recorded right now (the claim does not wait for it) commits first, and then a closed
    contract opens nothing and a contract just talked about is not reminded."""
    return list(
        Contract.objects.active()
        .filter(pk__in=ids)
        .select_for_update(of=("self",))
        .select_related("account__account_manager__team__manager")
        .order_by("end_date", "id")
    )


def _last_day_start(contract: Contract, tz) -> datetime:
    """24 hours before the contract's last day is over in the AM's zone: the renewal-due timer
    counts a day from here, so it breaches when the last day is over, also on the 23- and
    25-hour days when the clocks change."""
    over = datetime.combine(contract.end_date + timedelta(days=1), time.min, tzinfo=tz)
    return over.astimezone(UTC) - timedelta(days=1)


def renewal_opportunity(contract: Contract, *, owner_id: int, now: datetime, **fields) -> Opportunity:
    """A contract's renewal opportunity (unsaved): the AM's, closing at the contract's end, with
    no SDR qualification (BANT unknown) and "accepted" when opened."""
    return Opportunity(
        name=f"Renewal: {contract.account.name} ({contract.end_date:%b %Y})"[:200],
        account_id=contract.account_id,
        kind=Opportunity.Kind.RENEWAL,
        owner_id=owner_id,
        close_date=contract.end_date,
        budget=Qualification.UNKNOWN,
        authority=Qualification.UNKNOWN,
        need=Qualification.UNKNOWN,
        timing=Qualification.UNKNOWN,
        handed_off_at=now,
        accepted_at=now,
        **fields,
    )


def _open_renewals(
    run: RenewalRun, ids: Sequence[int], now: datetime, policies: dict[str, SlaPolicy]
) -> list[Reminder]:
    """The start window: a renewal opportunity for the AM, "start the renewal conversation"
    under its SLA, and (unless it renews itself) a timer that breaches at the end date."""
    contracts = _contracts(ids)
    stage = first_stage()
    schedules = work.Schedules().load(c.account.account_manager.team_id for c in contracts)  # type: ignore[union-attr]  # claimed: has its AM
    renewals = Opportunity.objects.bulk_create(
        renewal_opportunity(
            c,
            owner_id=c.account.account_manager_id,  # type: ignore[arg-type]  # claimed: has its AM
            now=now,
            status=Opportunity.Status.OPEN,
            stage=stage,
            amount=c.annual_value,
        )
        for c in contracts
    )
    items, events, opportunity_events = [], [], []
    for contract, renewal in zip(contracts, renewals, strict=True):
        contract.renewal = renewal
        am: User = contract.account.account_manager  # type: ignore[assignment]  # a claimed contract's account has its AM (the claim requires one)
        days = contract.days_left(timezone.localdate(now))
        when = (
            f"ends {day_text(contract.end_date)} ({days} days)"
            if days >= 0
            else f"ended {day_text(contract.end_date)}"
        )
        items.append(
            work.NewItem(
                subject=contract,
                kind=WorkItem.Kind.RENEWAL_START,
                title=f"Start the renewal conversation: {contract.account.name} {when}",
                owner_id=am.pk,
                team_id=am.team_id,
                policy=policies[SlaPolicy.RENEWAL_START],
            )
        )
        if not contract.auto_renew:
            items.append(
                work.NewItem(
                    subject=contract,
                    kind=WorkItem.Kind.RENEWAL_DUE,
                    title=f"Close the renewal of {contract.account.name} by {day_text(contract.end_date)}",
                    owner_id=am.pk,
                    team_id=am.team_id,
                    policy=policies[SlaPolicy.RENEWAL_DUE],
                    start=_last_day_start(contract, schedules.for_team(am.team_id).tz),
                )
            )
        events.append(
            AccountEvent(
                account_id=contract.account_id,
                contract=contract,
                kind=AccountEvent.Kind.RENEWAL_OPENED,
                at=now,
                amount=contract.annual_value,
                message=f"Renewal opened for {am}: the contract {when}, {money_text(contract.annual_value)} a year.",
            )
        )
        opportunity_events.append(
            OpportunityEvent(
                opportunity=renewal,
                kind=OpportunityEvent.Kind.ACCEPTED,
                at=now,
                to_stage=stage.name,
                message=f"Renewal of the contract ending {day_text(contract.end_date)}, for {am}.",
            )
        )
    Contract.objects.bulk_update(contracts, ["renewal"])
    work.open_items(items, now=now, schedules=schedules)
    notify(
        [
            News(
                recipient_id=c.account.account_manager_id,  # type: ignore[arg-type]  # claimed: has its AM
                kind=Kind.RENEWAL_OPENED,
                text=f"Renewal opened: {c.account.name}, the contract ends {day_text(c.end_date)}",
                url=c.get_absolute_url(),
                key=f"contract:{c.pk}:start",
            )
            for c in contracts
        ],
        now=now,
    )
    AccountEvent.objects.bulk_create(events)
    OpportunityEvent.objects.bulk_create(opportunity_events)
    run.opened += [c.pk for c in contracts]
    return []  # the start window emails nobody here: the AM is notified in the app


def _remind(
    run: RenewalRun, ids: Sequence[int], now: datetime, policies: dict[str, SlaPolicy]
) -> list[Reminder]:
    """The reminder window: when nobody has logged a renewal conversation, a reminder item
    for the AM and one email per AM (copied to their manager) listing their customers. The
    emails are returned, to be sent once the batch has committed (``_send_reminders``)."""
    contracts = _contracts(ids)
    talked = [c for c in contracts if c.renewal_activity_at is not None]
    silent = [c for c in contracts if c.renewal_activity_at is None]
    if talked:
        RenewalStep.objects.filter(
            contract_id__in=[c.pk for c in talked], step=RenewalStep.Step.REMINDER
        ).update(result=RenewalStep.Result.SKIPPED)
    today = timezone.localdate(now)
    items, events, by_am = [], [], defaultdict(list)
    for contract in silent:
        am: User = contract.account.account_manager  # type: ignore[assignment]  # a claimed contract's account has its AM (the claim requires one)
        days = contract.days_left(today)
        items.append(
            work.NewItem(
                subject=contract,
                kind=WorkItem.Kind.RENEWAL_REMINDER,
                title=f"Renewal in {days} days and no conversation yet: {contract.account.name}",
                owner_id=am.pk,
                team_id=am.team_id,
                policy=policies[SlaPolicy.RENEWAL_REMINDER],
            )
        )
        events.append(
            AccountEvent(
                account_id=contract.account_id,
                contract=contract,
                kind=AccountEvent.Kind.REMINDER,
                at=now,
                message=f"No renewal conversation logged with {days} days left: {am} and their manager reminded.",
            )
        )
        by_am[am].append(contract)
    work.open_items(items, now=now)
    AccountEvent.objects.bulk_create(events)
    run.reminded += [c.pk for c in silent]
    run.skipped += [c.pk for c in talked]
    return [
        ([c.pk for c in contracts_of_am], _reminder_email(am, contracts_of_am, today))
        for am, contracts_of_am in by_am.items()
        if am.email
    ]


def _send_reminders(run: RenewalRun, reminders: list[Reminder], now: datetime) -> bool:
    """Send a committed batch's reminder emails, one per AM; on a refusal, the reminders of
    the AMs not mailed are given back, so the next run reminds them (and emails them) again,
    and nobody has a reminder item nobody was told about. False when some were given back
    (the run stops there rather than claim them again at once)."""

    def give_back(unsent: list[list[int]]) -> None:
        ids = [pk for contract_ids in unsent for pk in contract_ids]
        with transaction.atomic():
            RenewalStep.objects.filter(
                contract_id__in=ids, step=RenewalStep.Step.REMINDER, done_at=now
            ).delete()
            WorkItem.objects.filter(
                work.subject_filter(Contract, ids), kind=WorkItem.Kind.RENEWAL_REMINDER, created_at=now
            ).delete()
            AccountEvent.objects.filter(contract_id__in=ids, kind=AccountEvent.Kind.REMINDER, at=now).delete()
        given = set(ids)
        run.reminded = [pk for pk in run.reminded if pk not in given]

    sent = send_claimed(reminders, give_back=give_back, what="renewal reminder emails")
    run.emails += sent
    return sent == len(reminders)


def _reminder_email(am: User, contracts: Sequence[Contract], today: date) -> EmailMessage:
    site = settings.SITE_URL.rstrip("/")
    total = sum((c.annual_value for c in contracts), Decimal(0))
    lines = [
        f"Hello {am.first_name or am.username},",
        "",
        f"{len(contracts)} renewal{'s come' if len(contracts) != 1 else ' comes'} due soon "
        f"({money_text(total)} a year) and nobody has logged a conversation with the customer yet:",
        "",
    ]
    for c in contracts:
        lines.append(
            f"- {c.account.name}: ends {day_text(c.end_date)} ({c.days_left(today)} days), "
            f"{money_text(c.annual_value)} a year. {site}{c.get_absolute_url()}"
        )
    lines += ["", f"Your renewals: {site}/renewals/"]
    manager = am.team.manager if am.team_id and am.team.manager_id else None  # type: ignore[union-attr]  # team_id checked
    return EmailMessage(
        subject=f"[Refinery] {len(contracts)} renewal{'s' if len(contracts) != 1 else ''} without a conversation",
        body="\n".join(lines),
        to=[am.email],
        cc=[manager.email] if manager is not None and manager.email else [],
    )
