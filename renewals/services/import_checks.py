"""The contract import's checks of clean rows against what exists: the account each row names
(by id or domain), contract numbers already on file or repeated, doubles of a contract on file
or of an earlier row, and the account manager a row names. Read-only, a fixed number of
queries for the batch; ``imports`` writes the rows that pass (the rules are in its docstring).
"""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Q
from django.db.models.functions import Lower

from accounts.models import Account
from team.models import Role, User

from ..models import Contract
from .import_rows import INT_MAX, ContractRow, RowResult, refused_row


def _resolve_managers(refs: Iterable[str]) -> dict[str, User | str]:
    """Each AM reference (username, email or id, any case) -> the active AM, or the reason
    why not. One query."""
    refs = {ref for ref in refs if ref}
    if not refs:
        return {}
    folded = {ref.casefold() for ref in refs}
    # isdecimal() alone lets "²" through, which int() refuses.
    ids = {int(ref) for ref in refs if ref.isascii() and ref.isdecimal() and int(ref) <= INT_MAX}
    users = list(
        User.objects.annotate(username_folded=Lower("username"), email_folded=Lower("email")).filter(
            Q(username_folded__in=folded) | Q(email_folded__in=folded) | Q(pk__in=ids)
        )
    )
    found: dict[str, User | str] = {}
    for ref in refs:
        key = ref.casefold()
        candidates = [u for u in users if key in (u.username_folded, u.email_folded) or str(u.pk) == ref]
        active = [u for u in candidates if u.role == Role.AM and u.is_active]
        if active:
            found[ref] = min(active, key=lambda u: u.pk)
        elif candidates:
            found[ref] = f"{candidates[0]} is not an active account manager."
        else:
            found[ref] = f"No user {ref[:60]!r}: name the account manager by username or email."
    return found


def check_rows(rows: list[ContractRow], results: dict[int, RowResult]) -> list[ContractRow]:
    """Refuse the rows that clash with the database or an earlier row (their reports go into
    ``results`` by line); return the rest, with their account (None: to be created) and AM
    attached."""
    ids = {r.account_id for r in rows if r.account_id}
    domains = {r.domain for r in rows if r.domain}
    accounts = Account.objects.select_related("account_manager").filter(Q(pk__in=ids) | Q(domain__in=domains))
    by_id = {a.pk: a for a in accounts}
    by_domain = {a.domain: a for a in by_id.values() if a.domain}
    numbers = {r.terms.number for r in rows if r.terms.number}
    taken = dict(Contract.objects.filter(number__in=numbers).values_list("number", "account__name"))
    known_ids = {a.pk for a in by_id.values()}
    on_file: defaultdict[tuple, list[int]] = defaultdict(list)
    for c in Contract.objects.filter(account_id__in=known_ids, number="").values(
        "pk", "account_id", "start_date", "end_date", "annual_value", "products"
    ):
        on_file[(c["account_id"], c["start_date"], c["end_date"], c["annual_value"], c["products"])].append(
            c["pk"]
        )
    managers = _resolve_managers(r.account_manager for r in rows)

    passed = []
    number_line: dict[str, int] = {}
    same_line: dict[tuple, int] = {}
    am_of_account: dict[Any, tuple[User, int]] = {}
    for row in rows:
        problems: dict[str, str] = {}
        account = by_id.get(row.account_id) if row.account_id else by_domain.get(row.domain)
        if row.account_id and account is None:
            problems["account"] = f"No account has the id {row.account_id}."
        elif account is None and not row.name:
            problems["name"] = (
                f"No account has the domain {row.domain}: give the company's name to create it."
            )
        number = row.terms.number
        if number in taken:
            problems["number"] = f"Contract {number} is already on file (for {taken[number]})."
        elif number in number_line:
            problems["number"] = f"The same contract number as line {number_line[number]}."
        key = account.pk if account else row.domain
        t = row.terms
        same = (key, t.start_date, t.end_date, t.annual_value, t.products)
        if not number and not problems:
            if account is not None and on_file.get(same):
                problems["non_field_errors"] = (
                    f"The same contract is already on file (contract {on_file[same][0]}); give contract "
                    "numbers to import two alike."
                )
            elif same in same_line:
                problems["non_field_errors"] = f"The same contract as line {same_line[same]}."
        am = None
        if row.account_manager:
            am = managers[row.account_manager]
            if isinstance(am, str):
                problems["account_manager"], am = am, None
            elif key in am_of_account and am_of_account[key][0] != am and not problems:
                other, other_line = am_of_account[key]
                problems["account_manager"] = (
                    f"Line {other_line} gives this account to {other}; one account has one account manager."
                )
        if problems:
            results[row.line] = refused_row(row.line, problems, account.name if account else row.name)
            continue
        if number:
            number_line[number] = row.line
        else:
            same_line[same] = row.line
        if am is not None and key not in am_of_account:
            am_of_account[key] = (am, row.line)  # type: ignore[assignment]  # a refusal (str) was reported and skipped above
        row.account, row.am = account, am  # type: ignore[assignment]  # a refusal (str) was reported and skipped above
        passed.append(row)
    return passed
