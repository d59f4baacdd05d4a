"""Account managers: who gets a customer (the territory rule naming a team of AMs and its
round-robin), why nobody does, a manager's hand assignment, and the customers still waiting
for an AM (offered again each daily run)."""

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from accounts.models import Account, Opportunity
from notifications.models import Kind
from notifications.services import News, notify
from sdr.models import TerritoryRule
from sdr.services import lock_round_robins, save_round_robins
from team.models import Role, Team, User
from work import services as work

from ..models import AccountEvent, Contract
from .base import BATCH, RenewalsError
from .expansion import move_expansion_leads
from .windows import open_windows


def account_news(picked: dict[Account, User], how: str = "") -> list[News]:
    """ "Assigned to you" for each AM given a customer account."""
    return [
        News(
            recipient_id=am.pk,
            kind=Kind.ASSIGNED,
            text=f"You manage {account.name} now{how}",
            url=account.get_absolute_url(),
        )
        for account, am in picked.items()
    ]


logger = logging.getLogger(__name__)


def pick_account_manager(account: Account, now: datetime) -> User | None:
    """The AM for a new customer: the first active territory rule naming a team of AMs that
    matches the account picks the team, and the team's round-robin (skipping AMs who are away)
    picks the AM. Call it inside the caller's transaction: the position stays locked."""
    return pick_account_managers([account], now).get(account)


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
            move_expansion_leads(account=account, from_am_id=previous.pk, to=am, now=now)
        notify(account_news({account: am}), by=by, now=now)
    return account


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


def pick_account_managers(accounts: Sequence[Account], now: datetime) -> dict[Account, User]:
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
            picked = pick_account_managers(waiting, now)
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
            notify(account_news(picked), now=now)
        given.extend(account.pk for account in picked)
        if len(waiting) < limit:
            break
        after = waiting[-1].pk
    if given:
        logger.info("Gave %d waiting customers an account manager.", len(given))
    return given
