"""Contracts for existing customers from a billing system's CSV export, or as JSON rows through
the API: each row created or refused with its reason, like a lead import.

The CSV file
    UTF-8 (a byte-order mark is fine; Excel's "CSV UTF-8"), comma-separated, a header row,
    at most 5,000 rows and 5 MB. Headers are matched ignoring case, spacing, "_" and "-";
    columns not listed are ignored. The file is refused whole, with the reason, when it is
    not UTF-8, not CSV, empty, too long, or lacks one of the needed columns.

    Needed columns (any one of the names):
      Domain            Domain, Website, Web Domain, URL, Company Domain
      Start Date        Start Date, Start, Contract Start (Date), Term Start, Service Start Date
      End Date          End Date, End, Contract End (Date), Term End: the term's LAST day
      Annual Value      Annual Value, ARR, ACV, Amount, Annual Contract Value, Contract Value
    Optional columns:
      Account           Account, Account Name, Company, Company Name, Customer (Name),
                        Organization: needed only to create an account no one has yet
      Contract Number   Contract Number, Contract No, Contract #, Contract ID, Subscription ID
      Products          Products, Product, Plan
      Seats             Seats, Licenses, Licences, Quantity
      Auto Renew        Auto Renew, Auto-Renew, Autorenew, Auto Renewal, Evergreen
      Account Manager   Account Manager, AM, CSM, Account Manager Email: a username or email

Each row
    - Account: found by its web domain, written any way ("https://www.Acme.com/about" is
      acme.com). A domain no account has creates the account with the Account name (a row
      without a name is then refused). The account becomes a customer.
    - Dates: ISO (2026-03-31, 2026/03/31, or an ISO date and time), US month first with
      slashes (03/31/2026; so 31/03/2026 is refused, not misread) or day first with dots
      (31.03.2026). The end date comes after the start date and is today or later: terms that
      already ended are not imported.
    - Annual value: the signs and codes $ € £ USD EUR GBP are dropped (no conversion). With
      both "," and "." the last one is the decimal separator ("$12,000.00" and "12.000,00" are
      both 12000); a lone "," before exactly three digits groups thousands ("12,000"),
      otherwise it is a decimal comma ("12,5"); a lone "." is a decimal point ("1.234" is
      1.23). "12k" and "1.2m" work. Zero or more, below 1,000,000,000,000; rounded to cents.
    - Seats: a whole number of zero or more ("1,200" is 1200); empty: not known.
    - Auto renew: yes/no, y/n, true/false, 1/0, on/off; empty is no.
    - Contract number: unique; a number already on file, or twice in the file, is refused.
      Without numbers, a row identical to a contract on file or to an earlier row (same
      account, dates, value and products) is refused as a double.
    - Account manager: an active AM, by username or email (or user id through the API). When
      given and the account has no AM or another one, the account is given to this AM. When
      empty, an account without an AM gets one by territory (as a won deal does); when none is
      available the row's report says why, and the daily renewal run gives it one once there
      is. Rows for one account naming two different AMs: the later one is refused.

Rows are independent: a refused row does not stop the others, and each row is all or nothing
(its contract, and the new account or AM change it brings, or none of it). Rows for the same
account are written together in one ``services.add_contracts`` call.

The API's JSON rows have the keys ``domain``, ``name``, ``number``, ``start_date``,
``end_date``, ``annual_value``, ``products``, ``seats``, ``auto_renew`` and ``account_manager``
(numbers and booleans may be JSON's own), plus ``account``: an existing account's id instead of
a domain. A row is checked exactly as a CSV row is, with the same messages.
"""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from kit.display import day_text, money_text
from team.models import User

from ..access import may_import_contracts
from ..models import AccountEvent, Contract
from .base import RenewalsError
from .contracts import add_contracts, add_contracts_many
from .import_checks import check_rows
from .import_rows import (
    MAX_CONTRACT_ROWS,
    ContractRow,
    ImportReport,
    RowResult,
    clean_row,
    read_csv,
    refused_row,
)
from .managers import assign_account_manager, why_no_account_manager


def import_contracts(*, by: User, file: BinaryIO, now: datetime | None = None) -> ImportReport:
    """A billing system's CSV export of contracts (see the module's docstring), each row
    reported by its line in the file."""
    _check_importer(by)
    rows, lines = read_csv(file)
    return add_contract_rows(by=by, rows=rows, lines=lines, source=Contract.Source.IMPORT, now=now)


def _check_importer(by: User) -> None:
    if not may_import_contracts(by):
        raise RenewalsError("Only managers and marketing/ops import contracts.")


def add_contract_rows(
    *,
    by: User,
    rows: Sequence[Mapping[str, Any]],
    source: str = Contract.Source.IMPORT,
    lines: Sequence[int] | None = None,
    now: datetime | None = None,
) -> ImportReport:
    """Create a contract for each row that passes (see the module's docstring) and report
    every row. Raises ``RenewalsError`` when the batch as a whole is refused (not an
    importer, too many rows); otherwise every row is either created or refused."""
    _check_importer(by)
    if len(rows) > MAX_CONTRACT_ROWS:
        raise RenewalsError(
            f"At most {MAX_CONTRACT_ROWS:,} contracts at a time; this list has {len(rows):,}. Split it."
        )
    now = now or timezone.now()
    today = timezone.localdate(now)
    lines = list(lines) if lines is not None else list(range(1, len(rows) + 1))
    results: dict[int, RowResult] = {}
    clean = []
    for line, raw in zip(lines, rows, strict=True):
        row = clean_row(line, raw, today)
        if isinstance(row, RowResult):
            results[line] = row
        else:
            clean.append(row)
    groups: dict[Any, list[ContractRow]] = defaultdict(list)
    for row in check_rows(clean, results):
        groups[row.account.pk if row.account else row.domain].append(row)
    written = _write_batch(list(groups.values()), by=by, source=source, now=now)
    if written is None:
        # Something changed under the batch (a number or domain saved meanwhile, an AM who just
        # left): account by account, so only the rows at fault are refused.
        written = []
        for group in groups.values():
            for outcome in _write_account(group, by=by, source=source, now=now):
                if isinstance(outcome, RowResult):
                    results[outcome.line] = outcome
                else:
                    written.append(outcome)
    for result in _created(written):
        results[result.line] = result
    return ImportReport(rows=[results[line] for line in sorted(results)])


@dataclass
class _Written:
    row: ContractRow
    contract: Contract
    account_id: int
    new_account: bool


def _write_batch(
    groups: list[list[ContractRow]], *, by: User, source: str, now: datetime
) -> list[_Written] | None:
    """Every account's rows in one transaction and a fixed number of statements: new accounts
    inserted together (with the AM a row names), named AMs of existing accounts assigned, and
    all the contracts through one ``add_contracts_many``. None when anything fails: nothing of
    the batch is kept and the caller retries account by account."""
    if not groups:
        return []
    new = [group for group in groups if group[0].account is None]
    try:
        with transaction.atomic():
            created = Account.objects.bulk_create(
                Account(
                    name=group[0].name,
                    domain=group[0].domain,
                    account_manager=_named_am(group),
                    created_at=now,
                )
                for group in new
            )
            for group, account in zip(new, created, strict=True):
                for row in group:
                    row.account = account
            AccountEvent.objects.bulk_create(
                AccountEvent(
                    account=account,
                    kind=AccountEvent.Kind.AM_ASSIGNED,
                    at=now,
                    actor=by,
                    message=f"{account.account_manager} manages the account. Named in a contract import.",
                )
                for account in created
                if account.account_manager_id
            )
            for group in groups:
                am, account = _named_am(group), group[0].account  # type: ignore[assignment]  # every row has its account by now
                if am is not None and account not in created and account.account_manager_id != am.pk:
                    assign_account_manager(
                        account_id=account.pk, am=am, by=by, reason="Named in a contract import.", now=now
                    )
            contracts = add_contracts_many(
                [(group[0].account, [row.terms for row in group]) for group in groups],  # type: ignore[misc]  # every row has its account by now
                by=by,
                source=source,
                now=now,
            )
    except (IntegrityError, RenewalsError, Account.DoesNotExist):
        for group in new:  # the accounts created in the rolled-back batch are gone
            for row in group:
                row.account = None
        return None
    new_ids = {account.pk for account in created}
    return [
        _Written(row, contract, group[0].account.pk, group[0].account.pk in new_ids)  # type: ignore[union-attr]  # every row has its account by now
        for group, made in zip(groups, contracts, strict=True)
        for row, contract in zip(group, made, strict=True)
    ]


def _named_am(group: list[ContractRow]) -> User | None:
    return next((r.am for r in group if r.am is not None), None)


def _write_account(
    group: list[ContractRow], *, by: User, source: str, now: datetime
) -> Sequence[_Written | RowResult]:
    """The rows of one account in one go; when that fails (a contract number or the domain
    saved by someone else meanwhile, an AM who just left), row by row, so only the rows at
    fault are refused and nothing of them is kept."""
    if len(group) > 1:
        try:
            with transaction.atomic():
                return _write(group, by=by, source=source, now=now)
        except (IntegrityError, RenewalsError, Account.DoesNotExist):
            pass
    return [_write_alone(row, by=by, source=source, now=now) for row in group]


def _write_alone(row: ContractRow, *, by: User, source: str, now: datetime) -> _Written | RowResult:
    try:
        with transaction.atomic():
            (written,) = _write([row], by=by, source=source, now=now, again=True)
            return written
    except IntegrityError:
        message = (
            f"Contract {row.terms.number} was saved by someone else meanwhile."
            if row.terms.number
            else "The account or contract was changed by someone else meanwhile; import the row again."
        )
        return refused_row(
            row.line, {"number" if row.terms.number else "non_field_errors": message}, row.name
        )
    except RenewalsError as exc:
        return refused_row(row.line, {exc.field or "non_field_errors": str(exc)}, row.name)
    except Account.DoesNotExist:
        return refused_row(row.line, {"account": "The account was deleted meanwhile."}, row.name)


def _write(
    rows: list[ContractRow], *, by: User, source: str, now: datetime, again: bool = False
) -> list[_Written]:
    """Inside the caller's transaction: the account (created if new), its AM if a row names
    one, and the contracts in one ``add_contracts``. ``again``: a retry after a failure, so
    the account is looked up afresh (someone may have created it meanwhile)."""
    first = rows[0]
    am = next((r.am for r in rows if r.am is not None), None)
    account, new = first.account, False
    if account is not None and (am is not None or again):
        account = Account.objects.get(pk=account.pk)  # the AM may have changed since the check
    elif account is None:
        account = Account.objects.filter(domain=first.domain).first() if again else None
        if account is None:
            account, new = Account.objects.create(name=first.name, domain=first.domain, created_at=now), True
    if am is not None and account.account_manager_id != am.pk:
        # Before the contracts: their renewal windows then open for this AM, and no territory
        # round-robin turn is spent on an account that is named.
        assign_account_manager(
            account_id=account.pk, am=am, by=by, reason="Named in a contract import.", now=now
        )
    contracts = add_contracts(account=account, terms=[r.terms for r in rows], by=by, source=source, now=now)
    return [_Written(row, contract, account.pk, new) for row, contract in zip(rows, contracts, strict=True)]


def _created(written: list[_Written]) -> list[RowResult]:
    """The report of the rows created, with each account as it ended up (its AM may have been
    picked by territory) and, for an account left without one, the true reason: one query for
    the batch, two more when some account has no AM."""
    accounts = Account.objects.select_related("account_manager").in_bulk({w.account_id for w in written})
    why = why_no_account_manager([a for a in accounts.values() if a.account_manager_id is None])
    results = []
    for w in written:
        account, contract = accounts[w.account_id], w.contract
        managed = (
            f"managed by {account.account_manager}"
            if account.account_manager_id
            else f"no account manager yet: {why[account.pk]}; its renewal opens when one is assigned"
        )
        what = f"Contract {contract.number}" if contract.number else "Contract"
        where = f"{account.name} ({account.domain})" if account.domain else account.name
        results.append(
            RowResult(
                line=w.row.line,
                status="created",
                message=f"{what} for {where}{', a new account' if w.new_account else ''}: "
                f"{money_text(contract.annual_value)} a year, {day_text(contract.start_date)} to "
                f"{day_text(contract.end_date)}; {managed}.",
                contract_id=contract.pk,
                account_id=account.pk,
                account_name=account.name,
            )
        )
    return results
