"""The AM's renewal work on a contract: the renewal conversation, the outcome (renewed,
expanded, downsized with a new linked term, or churned with a reason), and the auto-renewal
of contracts that reached their end."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import Account, Activity, Opportunity, OpportunityEvent, Stage
from accounts.services import record_activity
from kit import bounds
from kit.display import day_text, money_text
from team.models import User
from work import services as work
from work.models import WorkItem

from ..access import may_work_account
from ..models import CHURN_REASONS, AccountEvent, Contract, ContractActivity, RenewalSettings
from .base import RENEWAL_ITEM_KINDS, RenewalsError, Terms, term_end
from .contracts import add_contracts_many
from .windows import renewal_opportunity

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
        _talked(contract, by, now)
        AccountEvent.objects.create(
            account=contract.account, contract=contract, kind=AccountEvent.Kind.CONVERSATION, at=now,
            actor=by, message=note,
        )  # fmt: skip
    return contract


def _talked(contract: Contract, by: User, now: datetime) -> None:
    """Somebody talked to the customer about the renewal (the contract is locked): the start
    and reminder items are done, and the reminder window will not nag about this term."""
    contract.renewal_activity_at = now
    contract.save(update_fields=["renewal_activity_at"])
    work.complete_items(
        model=Contract,
        subject_ids=[contract.pk],
        kinds=[WorkItem.Kind.RENEWAL_START, WorkItem.Kind.RENEWAL_REMINDER],
        by=by,
        now=now,
    )


def in_renewal_window(contract: Contract, today: date, start_days: int) -> bool:
    """Whether the contract's renewal window is open: active, ending within ``start_days``
    (the window the daily run opens, and the one the renewals page calls silent)."""
    return contract.is_active and contract.end_date <= today + timedelta(days=start_days)


def log_contract_work(
    *, contract_id: int, by: User, kind: str, note: str, now: datetime | None = None
) -> ContractActivity:
    """A call, a meeting or a note logged on a contract: an ``accounts.Activity`` on its account
    with the contract kept beside it. A call or a meeting while the renewal window is open is
    the renewal conversation the reminder waits for (``log_conversation``'s effect: the start
    and reminder items are done, the last conversation is now); a note is not talking to the
    customer, and a call a year before the end is not about the renewal. Any state: a note on
    a churned term is still worth keeping."""
    now = now or timezone.now()
    with transaction.atomic():
        contract = _locked_contract(contract_id, by)
        activity = record_activity(account=contract.account, by=by, kind=kind, note=note, at=now)
        conversation = kind in Activity.TALKS and in_renewal_window(
            contract, timezone.localdate(now), RenewalSettings.load().start_days
        )
        if conversation:
            _talked(contract, by, now)
        return ContractActivity.objects.create(
            activity=activity, contract=contract, at=now, renewal_conversation=conversation
        )


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


OUTCOME_EVENT: dict[str, str] = {
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
                problems.setdefault(
                    "annual_value", f"An expansion is worth more than {money_text(old)} a year."
                )
            if outcome == Contract.Outcome.DOWNSIZED and terms.annual_value >= old:
                problems.setdefault(
                    "annual_value", f"A downsize is worth less than {money_text(old)} a year."
                )
            if outcome == Contract.Outcome.RENEWED and terms.annual_value != old:
                problems.setdefault(
                    "annual_value",
                    f"A renewal on the same value is {money_text(old)} a year; a different value is an expansion "
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
            [(c.account, [terms[c.pk]]) for c in contracts],  # type: ignore[index]  # given unless churned
            by=by,
            source=Contract.Source.RENEWAL,
            now=now,
        )
        news = [new for (new,) in made]
    _close_renewal_opportunities(contracts, news, outcome=outcome, by=by, now=now, churn_reason=churn_reason)
    label = Contract.Outcome(outcome).label
    events = []
    for contract, new in zip(contracts, news, strict=True):
        delta = (new.annual_value if new else Decimal(0)) - contract.annual_value
        if new is None:
            message = f"Churned: {churn_reason}; {money_text(contract.annual_value)} a year lost."
        else:
            message = f"{label}: {money_text(new.annual_value)} a year from {day_text(new.start_date)} to "
            message += f"{day_text(new.end_date)}" + (
                f" ({'+' if delta > 0 else ''}{money_text(delta)})." if delta else "."
            )
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
            opportunity = renewal_opportunity(contract, owner_id=am_id, now=now)
            created.append((contract, opportunity))
        elif opportunity.status != Opportunity.Status.OPEN:
            continue
        else:
            closing.append(opportunity)
        old_stage = opportunity.stage.name if opportunity.stage_id else ""  # type: ignore[union-attr]  # stage_id checked
        opportunity.stage, opportunity.closed_at, opportunity.updated_at = stage, now, now
        if won:
            opportunity.status, opportunity.amount = Opportunity.Status.WON, new.annual_value  # type: ignore[union-attr]  # won: the new contract was made
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
