"""Account management writes: customers and their contracts, account managers, the daily
renewal run, renewal conversations and outcomes.

Each function owns its transaction and writes the account's timeline in it. Refusals raise
``RenewalsError`` with a message for the user (and the field at fault) and change nothing.

The daily run is exactly-once by construction: a window is claimed for a contract by
inserting its ``RenewalStep`` row (unique per contract and window) with ``ON CONFLICT DO
NOTHING RETURNING``, and only the contracts whose rows this transaction inserted get items.
A second worker running at the same time waits on the unique index until the first commits,
then finds the rows taken. A day the task did not run is caught up by the next run: windows
are "the end date is at most N days away", not "exactly N days away".
"""

import calendar
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Account, Opportunity, OpportunityEvent, Qualification, Stage
from accounts.services import first_stage
from kit import bounds
from kit.errors import Refused
from sdr.models import TerritoryRule
from sdr.services import lock_round_robins, save_round_robins
from team.models import Role, Team, User
from work import services as work
from work.models import SlaPolicy, WorkItem

from .models import CHURN_REASONS, AccountEvent, Contract, RenewalSettings, RenewalStep

logger = logging.getLogger(__name__)

DEFAULT_POLICIES = {
    SlaPolicy.RENEWAL_START: {
        "name": "Start a renewal conversation (5 business days)",
        "target_minutes": 5 * 8 * 60,
    },
    SlaPolicy.RENEWAL_REMINDER: {"name": "Renewal reminder (2 business days)", "target_minutes": 2 * 8 * 60},
    SlaPolicy.RENEWAL_DUE: {
        "name": "Renewal closed by the contract's last day",
        "target_minutes": 24 * 60,
        "mode": SlaPolicy.Mode.WALL_CLOCK,
    },
    SlaPolicy.EXPANSION_LEAD: {
        "name": "First touch: expansion lead (1 business day)",
        "target_minutes": 8 * 60,
    },
}
# A run that missed days still opens renewals of contracts that ended this recently.
CATCH_UP_DAYS = 7
BATCH = 2_000
RENEWAL_ITEM_KINDS = (WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_REMINDER, WorkItem.Kind.RENEWAL_DUE)


class RenewalsError(Refused):
    """A change the contract's state or the user's role does not allow; ``field`` names the
    input at fault when there is one."""


def renewal_policies() -> dict[str, SlaPolicy]:
    """The renewal SLA policies, created with their defaults if an admin removed them."""
    policies = work.policies_by_key(*DEFAULT_POLICIES)
    for key, defaults in DEFAULT_POLICIES.items():
        if key not in policies:
            policies[key], _ = SlaPolicy.objects.get_or_create(key=key, defaults=defaults)
    return policies


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (Jan 31 + 1 = Feb 28/29)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def term_end(start: date, months: int) -> date:
    """The last day of a term of ``months`` starting on ``start``: the day before the same day
    ``months`` later or, when that month has no such day, its last day (a year from Feb 29
    ends on Feb 28, a month from Jan 31 on Feb 28/29), so no day falls between two terms."""
    anniversary = add_months(start, months)
    if anniversary.day < start.day:  # clamped: the anniversary would be the 1st of the next month
        return anniversary
    return anniversary - timedelta(days=1)


def can_manage_accounts(user) -> bool:
    """AMs, managers and superusers work customer accounts; AEs and SDRs never do."""
    return user.is_authenticated and (user.is_superuser or user.role in (Role.AM, Role.MANAGER))


def may_work_account(user, account: Account) -> bool:
    """The account's AM, a manager of the AM's team (or of the AM teams, while it has no AM),
    or a superuser."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    if user.role == Role.AM:
        return account.account_manager_id == user.pk
    if user.role == Role.MANAGER:
        am = account.account_manager
        if am is None:
            return Team.objects.filter(manager=user, kind=Team.Kind.ACCOUNT_MANAGEMENT).exists()
        return am.team_id is not None and Team.objects.filter(pk=am.team_id, manager=user).exists()
    return False


# --- account managers ----------------------------------------------------------------------


def pick_account_manager(account: Account, now: datetime) -> User | None:
    """The AM for a new customer: the first active territory rule naming a team of AMs that
    matches the account picks the team, and the team's round-robin (skipping AMs who are away)
    picks the AM. Call it inside the caller's transaction: the position stays locked."""
    return _pick_account_managers([account], now).get(account)


def _check_am(am: User) -> None:
    if am.role != Role.AM or not am.is_active:
        raise RenewalsError(f"{am} is not an active account manager.", field="account_manager")


def assign_account_manager(
    *, account_id: int, am: User | None, by: User | None, reason: str = "", now: datetime | None = None
) -> Account:
    """Give a customer account to ``am`` (by hand), or to the territory's round-robin when
    ``am`` is None. Open renewal work and expansion leads follow the account to its new AM,
    and windows that waited for an AM open at once."""
    now = now or timezone.now()
    with transaction.atomic():
        # NO KEY UPDATE: a daily run opening this account's renewals right now inserts rows
        # pointing at it (FOR KEY SHARE); it must finish, not deadlock with us on its steps.
        account = Account.objects.select_for_update(no_key=True).get(pk=account_id)
        if am is None:
            am = pick_account_manager(account, now)
            if am is None:
                why = why_no_account_manager([account])[account.pk]
                raise RenewalsError(f"{why[:1].upper()}{why[1:]}; choose one.", field="account_manager")
        _check_am(am)
        if account.account_manager_id == am.pk:
            raise RenewalsError(f"{am} already manages {account}.", field="account_manager")
        previous = account.account_manager
        account.account_manager = am
        account.save(update_fields=["account_manager"])
        message = f"{am} manages the account" + (f", after {previous}" if previous else "") + "."
        if reason.strip():
            message += f" {reason.strip()}"
        AccountEvent.objects.create(
            account=account, kind=AccountEvent.Kind.AM_ASSIGNED, at=now, actor=by, message=message[:500]
        )
        contract_ids = list(account.contracts.values_list("pk", flat=True))
        # Windows first: claiming them waits for a run that is opening them for the previous
        # AM, so the moves below also take what that run created.
        open_windows(contract_ids=contract_ids, now=now)
        work.move_items(model=Contract, subject_ids=contract_ids, owner_id=am.pk, team_id=am.team_id)
        Opportunity.objects.filter(
            account=account, kind=Opportunity.Kind.RENEWAL, status=Opportunity.Status.OPEN
        ).update(owner=am)
        if previous is not None:
            from .expansion import move_expansion_leads  # expansion builds on this module

            move_expansion_leads(account=account, from_am_id=previous.pk, to=am, now=now)
    return account


# --- customers and contracts ---------------------------------------------------------------


@dataclass
class Terms:
    """A contract term as entered by a person, an import row or the API."""

    start_date: date
    end_date: date
    annual_value: Decimal
    products: str = ""
    seats: int | None = None
    auto_renew: bool = False
    number: str = ""
    renewed_from_id: int | None = None  # the term this one renews (set by the renewal itself)

    def problems(self) -> dict[str, str]:
        errors = {}
        for name in ("start_date", "end_date"):
            if not bounds.date_in_range(getattr(self, name)):
                # A term ending in 9999 could not be renewed: its next term would start in 10000.
                errors[name] = bounds.DATE_RANGE_MESSAGE
        if not errors and self.end_date <= self.start_date:
            errors["end_date"] = "The end date comes after the start date."
        if self.annual_value is None or self.annual_value < 0:
            errors["annual_value"] = "The annual value is an amount of zero or more."
        elif self.annual_value >= bounds.MONEY_LIMIT:
            errors["annual_value"] = "The annual value is below 1,000,000,000,000 a year."
        if self.seats is not None and self.seats < 0:
            errors["seats"] = "Seats are a whole number of zero or more."
        elif self.seats is not None and self.seats > bounds.INT_MAX:
            errors["seats"] = f"Seats are at most {bounds.INT_MAX:,}."
        if len(self.products) > 300:
            errors["products"] = "Products fit in 300 characters."
        if len(self.number) > 64:
            errors["number"] = "The contract number fits in 64 characters."
        return errors


def _make_customers(
    accounts: Sequence[Account], by: User | None, now: datetime, why: dict[int, str]
) -> list[AccountEvent]:
    """Mark the (locked) accounts customers and give those without an AM one by territory
    (one rule read and one round-robin lock for the batch); the events to write."""
    events, changed = [], []
    for account in accounts:
        if account.customer_since is None or account.churned_at is not None:
            back = account.churned_at is not None
            account.customer_since = account.customer_since if back else now
            account.churned_at = None
            changed.append(account)
            events.append(
                AccountEvent(
                    account=account,
                    kind=AccountEvent.Kind.CUSTOMER,
                    at=now,
                    actor=by,
                    message=("Customer again: " if back else "") + why[account.pk],
                )
            )
    unmanaged = [a for a in accounts if a.account_manager_id is None]
    for account, am in _pick_account_managers(unmanaged, now).items():
        account.account_manager = am
        changed.append(account)
        events.append(
            AccountEvent(
                account=account,
                kind=AccountEvent.Kind.AM_ASSIGNED,
                at=now,
                message=f"{am} manages the account (territory round-robin).",
            )
        )
    if changed:
        Account.objects.bulk_update(
            list({a.pk: a for a in changed}.values()), ["customer_since", "churned_at", "account_manager"]
        )
    return events


def _territory_am_teams(accounts: Sequence[Account]) -> dict[Account, Team]:
    """The AM team the first matching active territory rule naming a team of AMs gives each
    account (accounts no such rule matches are left out). One query."""
    rules = list(
        TerritoryRule.objects.filter(is_active=True, team__kind=Team.Kind.ACCOUNT_MANAGEMENT).select_related(
            "team"
        )
    )
    teams = {}
    for account in accounts:
        rule = next((r for r in rules if r.matches(account)), None)
        if rule is not None:
            teams[account] = rule.team
    return teams


def _pick_account_managers(accounts: Sequence[Account], now: datetime) -> dict[Account, User]:
    """An AM for each account a territory rule of an AM team matches, by the teams'
    round-robins (locked until the caller's transaction ends); accounts no rule matches or
    whose team has nobody available (every AM away) are left out.

    Customers are not leads: an AM's lead capacity does not limit how many they receive, so
    a batch of any size is dealt evenly over the team's AMs who are not away."""
    if not accounts:
        return {}
    teams = _territory_am_teams(accounts)
    if not teams:
        return {}
    pools = lock_round_robins({team.pk for team in teams.values()}, roles=[Role.AM], capped=False)
    picked = {account: am for account, team in teams.items() if (am := pools[team.pk].pick()) is not None}
    if picked:
        save_round_robins(pools, now)
    return picked


def why_no_account_manager(accounts: Sequence[Account]) -> dict[int, str]:
    """Why territory gives each of these accounts no AM right now, by account id: no rule
    names a team of AMs for it, the team it names has no active AMs, or every AM of that team
    is away. Two queries, whatever the number of accounts."""
    if not accounts:
        return {}
    teams = _territory_am_teams(accounts)
    staff = {
        row["team_id"]: row
        for row in User.objects.filter(
            team_id__in={team.pk for team in teams.values()}, role=Role.AM, is_active=True
        )
        .values("team_id")
        .annotate(total=Count("pk"), away=Count("pk", filter=Q(is_away=True)))
    }
    reasons = {}
    for account in accounts:
        team = teams.get(account)
        row = staff.get(team.pk) if team is not None else None
        if team is None:
            reasons[account.pk] = "no territory rule names a team of account managers for it"
        elif row is None:
            reasons[account.pk] = f"{team}, the team its territory names, has no active account managers"
        elif row["away"] == row["total"]:
            reasons[account.pk] = f"every account manager of {team} is away"
        else:
            reasons[account.pk] = f"no account manager of {team} was available when it was added"
    return reasons


def _contract_event(contract: Contract, by: User | None, now: datetime) -> AccountEvent:
    c = contract
    return AccountEvent(
        account_id=c.account_id,
        contract=c,
        kind=AccountEvent.Kind.CONTRACT,
        at=now,
        actor=by,
        amount=c.annual_value,
        message=f"{c.annual_value:,.2f} a year, {c.start_date:%Y-%m-%d} to {c.end_date:%Y-%m-%d}"
        + (f", {c.products}" if c.products else "")
        + (f", {c.seats} seats" if c.seats else "")
        + (" (auto-renews)" if c.auto_renew else "")
        + ".",
    )


def add_contracts(
    *,
    account: Account,
    terms: Sequence[Terms],
    by: User | None,
    source: str,
    now: datetime | None = None,
    opportunity: Opportunity | None = None,
) -> list[Contract]:
    """Create contracts for one account, making it a customer; windows the contracts are
    already inside open at once. The caller validated ``terms``."""
    (contracts,) = add_contracts_many(
        [(account, terms)], by=by, source=source, now=now, opportunity=opportunity
    )
    return contracts


def add_contracts_many(
    batch: Sequence[tuple[Account, Sequence[Terms]]],
    *,
    by: User | None,
    source: str,
    now: datetime | None = None,
    opportunity: Opportunity | None = None,
) -> list[list[Contract]]:
    """Contracts for many accounts in one transaction and a fixed number of statements (an
    import): the accounts locked in id order, made customers, AMs picked by territory for
    those without one, the contracts and timeline events inserted in bulk, and the windows
    they are already inside opened. Returns each account's contracts in ``batch`` order."""
    now = now or timezone.now()
    with transaction.atomic():
        ids = [account.pk for account, _ in batch]
        # no_key: the renewal run inserting rows that point at these accounts need not wait.
        accounts = Account.objects.select_for_update(no_key=True).filter(pk__in=ids).order_by("pk").in_bulk()
        if opportunity is not None:
            why = f"won {opportunity.name}"
        else:
            why = f"contract {Contract.Source(source).label.lower()}"
        events = _make_customers(list(accounts.values()), by, now, dict.fromkeys(accounts, why))
        made = Contract.objects.bulk_create(
            Contract(
                account=accounts[account.pk],
                number=t.number,
                source=source,
                opportunity=opportunity,
                renewed_from_id=t.renewed_from_id,
                start_date=t.start_date,
                end_date=t.end_date,
                annual_value=t.annual_value,
                products=t.products,
                seats=t.seats,
                auto_renew=t.auto_renew,
                created_at=now,
                created_by=by,
            )
            for account, terms in batch
            for t in terms
        )
        if source != Contract.Source.RENEWAL:  # the outcome's own event says it
            events += [_contract_event(c, by, now) for c in made]
        AccountEvent.objects.bulk_create(events)
        open_windows(contract_ids=[c.pk for c in made], now=now)
    result, at = [], 0
    for _, terms in batch:
        result.append(made[at : at + len(terms)])
        at += len(terms)
    return result


def on_opportunity_won(sender, *, opportunity: Opportunity, by: User, at: datetime, **kwargs) -> None:
    """``accounts.signals.opportunity_won`` receiver: the account becomes a customer with a
    contract for the amount won, starting on the day it was won, for the default term."""
    start = timezone.localdate(at)
    terms = Terms(
        start_date=start,
        end_date=term_end(start, RenewalSettings.load().term_months),
        annual_value=opportunity.amount or Decimal(0),
        products=opportunity.name[:300] if opportunity.kind == Opportunity.Kind.EXPANSION else "",
    )
    add_contracts(
        account=opportunity.account, terms=[terms], by=by, source=Contract.Source.WON, now=at,
        opportunity=opportunity,
    )  # fmt: skip


# --- the daily run -------------------------------------------------------------------------


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
    params = {"step": step, "now": now, "until": until, "since": since, "limit": limit}
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


def run_renewals(*, now: datetime | None = None, batch_size: int = BATCH) -> RenewalRun:
    """The daily task: open the renewals whose window has started, remind the AMs whose
    customers nobody has talked to by the reminder window, and renew auto-renewing contracts
    that reached their end. Safe to run twice, concurrently, or after days of not running."""
    now = now or timezone.now()
    run = RenewalRun()
    assign_waiting_customers(now=now, limit=batch_size)
    _open_windows(run, now=now, only=None, batch_size=batch_size)
    run.auto_renewed = auto_renew_ended(now=now)
    return run


def assign_waiting_customers(*, now: datetime | None = None, limit: int = BATCH) -> list[int]:
    """Customers with an active contract and still no AM (when they became customers every AM
    of their territory's team was away, or no rule named a team) get one by territory as soon
    as one is available: the daily run calls this before opening windows, so their renewals
    open that same run. Accounts another transaction holds are left for the next run. Returns
    the accounts given an AM; a fixed number of statements per batch of ``limit`` accounts.

    Every waiting account is offered each run, batch after batch in id order: customers that
    no rule covers keep waiting without keeping later ones from their AM."""
    now = now or timezone.now()
    given: list[int] = []
    after = 0
    while True:
        with transaction.atomic():
            waiting = list(
                Account.objects.select_for_update(no_key=True, skip_locked=True)
                .filter(
                    Exists(Contract.objects.active().filter(account=OuterRef("pk"))),
                    pk__gt=after,
                    account_manager__isnull=True,
                    customer_since__isnull=False,
                    churned_at__isnull=True,
                )
                .order_by("pk")[:limit]
            )
            picked = _pick_account_managers(waiting, now)
            for account, am in picked.items():
                account.account_manager = am
            Account.objects.bulk_update(list(picked), ["account_manager"])
            AccountEvent.objects.bulk_create(
                AccountEvent(
                    account=account,
                    kind=AccountEvent.Kind.AM_ASSIGNED,
                    at=now,
                    message=f"{am} manages the account (territory round-robin; it had waited for an AM).",
                )
                for account, am in picked.items()
            )
        given.extend(account.pk for account in picked)
        if len(waiting) < limit:
            break
        after = waiting[-1].pk
    if given:
        logger.info("Gave %d waiting customers an account manager.", len(given))
    return given


def open_windows(*, contract_ids: Sequence[int], now: datetime | None = None) -> RenewalRun:
    """Open at once the windows these (new) contracts are already inside: a contract signed
    40 days before its end gets its renewal today, not at tomorrow's run."""
    run = RenewalRun()
    if contract_ids:
        _open_windows(run, now=now or timezone.now(), only=list(contract_ids), batch_size=BATCH)
    return run


def _open_windows(run: RenewalRun, *, now: datetime, only: list[int] | None, batch_size: int) -> None:
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
                    handler(run, claimed, now, policies)
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


def _renewal_opportunity(contract: Contract, *, owner_id: int, now: datetime, **fields) -> Opportunity:
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
) -> None:
    """The start window: a renewal opportunity for the AM, "start the renewal conversation"
    under its SLA, and (unless it renews itself) a timer that breaches at the end date."""
    contracts = _contracts(ids)
    stage = first_stage()
    schedules = work.Schedules().load(c.account.account_manager.team_id for c in contracts)
    renewals = Opportunity.objects.bulk_create(
        _renewal_opportunity(
            c,
            owner_id=c.account.account_manager_id,
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
        am = contract.account.account_manager
        days = contract.days_left(timezone.localdate(now))
        when = (
            f"ends {contract.end_date:%Y-%m-%d} ({days} days)"
            if days >= 0
            else f"ended {contract.end_date:%Y-%m-%d}"
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
                    title=f"Close the renewal of {contract.account.name} by {contract.end_date:%Y-%m-%d}",
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
                message=f"Renewal opened for {am}: the contract {when}, {contract.annual_value:,.2f} a year.",
            )
        )
        opportunity_events.append(
            OpportunityEvent(
                opportunity=renewal,
                kind=OpportunityEvent.Kind.ACCEPTED,
                at=now,
                to_stage=stage.name,
                message=f"Renewal of the contract ending {contract.end_date:%Y-%m-%d}, for {am}.",
            )
        )
    Contract.objects.bulk_update(contracts, ["renewal"])
    work.open_items(items, now=now, schedules=schedules)
    AccountEvent.objects.bulk_create(events)
    OpportunityEvent.objects.bulk_create(opportunity_events)
    run.opened += [c.pk for c in contracts]


def _remind(run: RenewalRun, ids: Sequence[int], now: datetime, policies: dict[str, SlaPolicy]) -> None:
    """The reminder window: when nobody has logged a renewal conversation, a reminder item
    for the AM and one email per AM (copied to their manager) listing their customers."""
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
        am = contract.account.account_manager
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
    messages = [
        _reminder_email(am, contracts_of_am, today) for am, contracts_of_am in by_am.items() if am.email
    ]
    if messages:
        # Inside the transaction: if the mail server refuses, the window rolls back and the
        # next run tries again, instead of reminders that nobody was told about.
        get_connection(fail_silently=False).send_messages(messages)
    run.reminded += [c.pk for c in silent]
    run.skipped += [c.pk for c in talked]
    run.emails += len(messages)


def _reminder_email(am: User, contracts: Sequence[Contract], today: date) -> EmailMessage:
    site = settings.SITE_URL.rstrip("/")
    total = sum((c.annual_value for c in contracts), Decimal(0))
    lines = [
        f"Hello {am.first_name or am.username},",
        "",
        f"{len(contracts)} renewal{'s come' if len(contracts) != 1 else ' comes'} due soon "
        f"({total:,.2f} a year) and nobody has logged a conversation with the customer yet:",
        "",
    ]
    for c in contracts:
        lines.append(
            f"- {c.account.name}: ends {c.end_date:%Y-%m-%d} ({c.days_left(today)} days), "
            f"{c.annual_value:,.2f} a year. {site}{c.get_absolute_url()}"
        )
    lines += ["", f"Your renewals: {site}/renewals/"]
    manager = am.team.manager if am.team_id and am.team.manager_id else None
    return EmailMessage(
        subject=f"[Refinery] {len(contracts)} renewal{'s' if len(contracts) != 1 else ''} without a conversation",
        body="\n".join(lines),
        to=[am.email],
        cc=[manager.email] if manager is not None and manager.email else [],
    )


AUTO_RENEW_BATCH = 200


def auto_renew_ended(*, now: datetime | None = None) -> list[int]:
    """Auto-renewing contracts past their last day with no outcome renew on the same terms, a
    batch at a time in a fixed number of statements (a fifth of a day's ending contracts renew
    themselves: one by one they were most of the daily run's statements)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    renewed = []
    while True:
        with transaction.atomic():
            batch = list(
                Contract.objects.active()
                .filter(auto_renew=True, end_date__lt=today)
                .select_for_update(skip_locked=True, of=("self",))
                .select_related("account")
                .order_by("end_date", "id")[:AUTO_RENEW_BATCH]
            )
            if batch:
                _close_many(
                    batch,
                    outcome=Contract.Outcome.RENEWED,
                    by=None,
                    now=now,
                    terms={c.pk: _same_terms(c) for c in batch},
                    note="Renewed automatically on the same terms (auto-renew).",
                )
            renewed += [c.pk for c in batch]
        if len(batch) < AUTO_RENEW_BATCH:
            return renewed


# --- the AM's work -------------------------------------------------------------------------


def _locked_contract(contract_id: int, by: User) -> Contract:
    contract = Contract.objects.select_for_update(of=("self",)).select_related("account").get(pk=contract_id)
    account = Account.objects.select_related("account_manager").get(pk=contract.account_id)
    if not may_work_account(by, account):
        raise RenewalsError("Only the account's AM (or their manager) works its renewals.")
    contract.account = account
    return contract


def log_conversation(*, contract_id: int, by: User, note: str, now: datetime | None = None) -> Contract:
    """The AM talked to the customer about the renewal: the start and reminder items are done,
    and the reminder window will not nag about this contract."""
    now = now or timezone.now()
    note = (note or "").strip()
    if not note:
        raise RenewalsError("Say what was discussed.", field="note")
    if len(note) > 480:
        raise RenewalsError("Keep the note under 480 characters.", field="note")
    with transaction.atomic():
        contract = _locked_contract(contract_id, by)
        if not contract.is_active:
            raise RenewalsError(f"This contract is already {contract.get_status_display().lower()}.")
        contract.renewal_activity_at = now
        contract.save(update_fields=["renewal_activity_at"])
        work.complete_items(
            model=Contract,
            subject_ids=[contract.pk],
            kinds=[WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_REMINDER],
            by=by,
            now=now,
        )
        AccountEvent.objects.create(
            account=contract.account, contract=contract, kind=AccountEvent.Kind.CONVERSATION, at=now,
            actor=by, message=note,
        )  # fmt: skip
    return contract


def _same_terms(contract: Contract) -> Terms:
    if contract.end_date >= bounds.LATEST_DATE:
        # A term ending on the range's last day, or stored before the range was enforced
        # (ending 9999-12-31): no successor fits in the range, and one day later may be past
        # year 9999. Terms.problems refuses these dates with the range's message.
        start = end = date.max
    else:
        start = contract.end_date + timedelta(days=1)
        end = term_end(start, _term_months(contract))
    return Terms(
        start_date=start,
        end_date=end,
        annual_value=contract.annual_value,
        products=contract.products,
        seats=contract.seats,
        auto_renew=contract.auto_renew,
        renewed_from_id=contract.pk,
    )


def _term_months(contract: Contract) -> int:
    """The old term's length in whole months (12 for a year), at least one."""
    end = contract.end_date + timedelta(days=1)
    months = (end.year - contract.start_date.year) * 12 + end.month - contract.start_date.month
    if months > 1 and term_end(contract.start_date, months - 1) == contract.end_date:
        months -= 1  # a term ending on a short month's last day (Feb 29 2028 to Feb 28 2029)
    return max(months, 1)


OUTCOME_EVENT = {
    Contract.Outcome.RENEWED: AccountEvent.Kind.RENEWED,
    Contract.Outcome.EXPANDED: AccountEvent.Kind.EXPANDED,
    Contract.Outcome.DOWNSIZED: AccountEvent.Kind.DOWNSIZED,
    Contract.Outcome.CHURNED: AccountEvent.Kind.CHURNED,
}


def next_terms(contract: Contract, **changes) -> Terms:
    """The renewed term by default: the same value, products and seats, for as long again."""
    terms = _same_terms(contract)
    for name, value in changes.items():
        if value is not None and value != "":
            setattr(terms, name, value)
    return terms


def record_outcome(
    *,
    contract_id: int,
    by: User,
    outcome: str,
    annual_value: Decimal | None = None,
    end_date: date | None = None,
    seats: int | None = None,
    products: str | None = None,
    churn_reason: str = "",
    note: str = "",
    now: datetime | None = None,
) -> Contract:
    """Close a contract's renewal. Renewed, expanded and downsized start a new term the day
    after the old one ends (linked to it; same terms unless given); expanded needs a higher
    annual value and downsized a lower one. Churned needs a reason. Returns the new term (or
    the churned contract)."""
    now = now or timezone.now()
    if outcome not in Contract.Outcome.values:
        raise RenewalsError("Choose renewed, expanded, downsized or churned.", field="outcome")
    with transaction.atomic():
        contract = _locked_contract(contract_id, by)
        if not contract.is_active:
            raise RenewalsError(
                f"This contract's renewal was already recorded: {contract.get_outcome_display().lower()}."
            )
        terms = None
        if outcome == Contract.Outcome.CHURNED:
            if churn_reason not in CHURN_REASONS:
                raise RenewalsError(
                    f"Choose why they left: {', '.join(CHURN_REASONS)}.", field="churn_reason"
                )
        else:
            terms = next_terms(
                contract, annual_value=annual_value, end_date=end_date, seats=seats, products=products
            )
            problems = terms.problems()
            old = contract.annual_value
            if outcome == Contract.Outcome.EXPANDED and terms.annual_value <= old:
                problems.setdefault("annual_value", f"An expansion is worth more than {old:,.2f} a year.")
            if outcome == Contract.Outcome.DOWNSIZED and terms.annual_value >= old:
                problems.setdefault("annual_value", f"A downsize is worth less than {old:,.2f} a year.")
            if outcome == Contract.Outcome.RENEWED and terms.annual_value != old:
                problems.setdefault(
                    "annual_value",
                    f"A renewal on the same value is {old:,.2f} a year; a different value is an expansion "
                    "or a downsize.",
                )
            if problems:
                name, message = next(iter(problems.items()))
                raise RenewalsError(message, field=name)
        (result,) = _close_many(
            [contract], outcome=outcome, by=by, now=now, terms={contract.pk: terms} if terms else None,
            churn_reason=churn_reason, note=note,
        )  # fmt: skip
        return result


def _close_many(
    contracts: Sequence[Contract],
    *,
    outcome: str,
    by: User | None,
    now: datetime,
    terms: dict[int, Terms] | None,
    churn_reason: str = "",
    note: str = "",
) -> list[Contract]:
    """Write one outcome on locked, active contracts (the caller checked them), in a fixed
    number of statements: the contracts closed, their renewal items done, the next terms
    created (renewed, expanded, downsized), the renewal opportunities closed, the timelines
    written, and customers whose last contract churned marked churned. Returns the new terms
    (or the churned contracts), in order."""
    churned = outcome == Contract.Outcome.CHURNED
    note = (note or "").strip()[:2000]
    ids = [c.pk for c in contracts]
    status = Contract.Status.CHURNED if churned else Contract.Status.RENEWED
    Contract.objects.filter(pk__in=ids).update(
        status=status, outcome=outcome, closed_at=now, churn_reason=churn_reason, outcome_note=note
    )
    for c in contracts:
        c.status, c.outcome, c.closed_at, c.churn_reason, c.outcome_note = (
            status,
            outcome,
            now,
            churn_reason,
            note,
        )
    work.complete_items(model=Contract, subject_ids=ids, kinds=RENEWAL_ITEM_KINDS, by=by, now=now)
    news: list[Contract | None] = [None] * len(contracts)
    if not churned:
        made = add_contracts_many(
            [(c.account, [terms[c.pk]]) for c in contracts], by=by, source=Contract.Source.RENEWAL, now=now
        )
        news = [new for (new,) in made]
    _close_renewal_opportunities(contracts, news, outcome=outcome, by=by, now=now, churn_reason=churn_reason)
    label = Contract.Outcome(outcome).label
    events = []
    for contract, new in zip(contracts, news, strict=True):
        delta = (new.annual_value if new else Decimal(0)) - contract.annual_value
        if new is None:
            message = f"Churned: {churn_reason}; {contract.annual_value:,.2f} a year lost."
        else:
            message = f"{label}: {new.annual_value:,.2f} a year from {new.start_date:%Y-%m-%d} to "
            message += f"{new.end_date:%Y-%m-%d}" + (f" ({delta:+,.2f})." if delta else ".")
        if note:
            message += f" {note}"
        events.append(
            AccountEvent(
                account_id=contract.account_id,
                contract=contract,
                kind=OUTCOME_EVENT[outcome],
                at=now,
                actor=by,
                amount=delta,
                message=message[:500],
            )
        )
    AccountEvent.objects.bulk_create(events)
    if churned:
        still_active = Contract.objects.active().filter(account_id=OuterRef("pk"))
        Account.objects.filter(pk__in={c.account_id for c in contracts}).exclude(Exists(still_active)).update(
            churned_at=now
        )
    return [new or contract for contract, new in zip(contracts, news, strict=True)]


def _close_renewal_opportunities(
    contracts: Sequence[Contract],
    news: Sequence[Contract | None],
    *,
    outcome: str,
    by: User | None,
    now: datetime,
    churn_reason: str,
) -> None:
    """The renewal opportunities close with their contracts: won at the new value, or lost to
    the churn reason. A renewal recorded before its window opened gets one, closed at once, so
    renewal metrics count every renewal."""
    won = outcome != Contract.Outcome.CHURNED
    stage = Stage.objects.filter(kind=Stage.Kind.WON if won else Stage.Kind.LOST, is_active=True).first()
    existing = Opportunity.objects.select_related("stage").in_bulk(
        [c.renewal_id for c in contracts if c.renewal_id]
    )
    closing, created, events = [], [], []
    for contract, new in zip(contracts, news, strict=True):
        opportunity = existing.get(contract.renewal_id)
        if opportunity is None:
            am_id = contract.account.account_manager_id or (by.pk if by else None)
            if am_id is None:
                continue
            opportunity = _renewal_opportunity(contract, owner_id=am_id, now=now)
            created.append((contract, opportunity))
        elif opportunity.status != Opportunity.Status.OPEN:
            continue
        else:
            closing.append(opportunity)
        old_stage = opportunity.stage.name if opportunity.stage_id else ""
        opportunity.stage, opportunity.closed_at, opportunity.updated_at = stage, now, now
        if won:
            opportunity.status, opportunity.amount = Opportunity.Status.WON, new.annual_value
        else:
            opportunity.status, opportunity.lost_reason = Opportunity.Status.LOST, churn_reason
        events.append(
            OpportunityEvent(
                opportunity=opportunity,
                kind=OpportunityEvent.Kind.WON if won else OpportunityEvent.Kind.LOST,
                at=now,
                actor=by,
                from_stage=old_stage,
                to_stage=stage.name if stage else "",
                message=f"{Contract.Outcome(outcome).label}.",
            )
        )
    Opportunity.objects.bulk_update(
        closing, ["stage", "closed_at", "updated_at", "status", "amount", "lost_reason"]
    )
    if created:
        Opportunity.objects.bulk_create([opportunity for _, opportunity in created])
        for contract, opportunity in created:
            contract.renewal = opportunity
        Contract.objects.bulk_update([contract for contract, _ in created], ["renewal"])
    OpportunityEvent.objects.bulk_create(events)
