"""Merging two accounts that are one company: everything on the merged account moves to the
survivor in one transaction, the merged account is deleted and its id redirects.

Both rows are locked in id order (``FOR NO KEY UPDATE``, the merged one ``FOR UPDATE`` just
before its rows move), so two people merging the same pair (either way round) at once queue on
the first lock; the second finds the merged row gone and is refused with a clear
message (``AccountMergeRefused``), never half a merge. Every foreign key to ``Account`` is in
``MOVED_RELATIONS``; the service refuses to run when a model gained one it does not know (and a
test enumerates ``Account._meta`` against that table), so no row is silently cascaded away.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import ForeignObjectRel
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, AccountRedirect, Activity, Opportunity
from kit.errors import Refused
from notifications.models import Notification
from renewals.models import Contract
from renewals.services import move_expansion_leads, open_windows
from team.models import User
from work import services as work

from ..access_companies import may_merge_accounts
from ..models import Kind, MergeRecord

# (model label, foreign key to Account) -> what MergeRecord.moved counts it as.
MOVED_RELATIONS: dict[tuple[str, str], str] = {
    ("accounts.Contact", "account"): "contacts",
    ("accounts.Opportunity", "account"): "opportunities",
    ("accounts.Activity", "account"): "activities",
    ("renewals.Contract", "account"): "contracts",
    ("renewals.AccountEvent", "account"): "events",
    ("accounts.AccountRedirect", "account"): "redirects",
    # That an import made the account: undoing it finds the survivor, touched (it has a redirect).
    ("renewals.ImportedRecord", "account"): "import_records",
}
# The values a person chooses between, field by field; the rest follow rules (docstring).
ACCOUNT_FIELDS = ("name", "domain", "industry", "country", "employees", "prospector")
SURVIVOR, MERGED = "survivor", "merged"


class AccountMergeRefused(Refused):
    """A merge that cannot happen: the message says why (with a field when it is the input)."""


def account_relations() -> list[tuple[str, str, Any]]:
    """Every foreign key to Account, hidden ones included: (model label, field name, model)."""
    found = []
    for rel in Account._meta.get_fields(include_hidden=True):
        if isinstance(rel, ForeignObjectRel) and rel.related_model is not None:
            model: Any = rel.related_model
            found.append((model._meta.label, rel.field.name, model))
    return found


def _pk(account: Account | int) -> int:
    return account.pk if isinstance(account, Account) else int(account)


def _value(account: Account, name: str) -> Any:
    return getattr(account, f"{name}_id") if name == "prospector" else getattr(account, name)


def _snapshot(account: Account) -> dict[str, Any]:
    """The account as it was, JSON-safe, for the merge record."""
    values: dict[str, Any] = {}
    for f in Account._meta.concrete_fields:
        value = getattr(account, f.attname)
        values[f.attname] = value.isoformat() if isinstance(value, datetime) else value
    return values


def _checked_choices(chosen: dict[str, str] | None, survivor: Account, merged: Account) -> dict[str, str]:
    """Which record's value each field keeps: as chosen, else the survivor's, unless it is blank
    and the merged account's is not (fill blanks)."""
    chosen = dict(chosen or {})
    unknown = set(chosen) - set(ACCOUNT_FIELDS)
    if unknown:
        raise AccountMergeRefused(f"Unknown field: {', '.join(sorted(unknown))}.", field="chosen")
    result = {}
    for name in ACCOUNT_FIELDS:
        side = chosen.get(name)
        if side is None:
            blank = _value(survivor, name) in ("", None)
            side = MERGED if blank and _value(merged, name) not in ("", None) else SURVIVOR
        if side not in (SURVIVOR, MERGED):
            raise AccountMergeRefused("Choose the survivor's or the merged account's value.", field=name)
        result[name] = side
    return result


def _locked_pair(survivor_id: int, merged_id: int) -> tuple[Account, Account]:
    """Both accounts locked in id order; refused when either is gone (merged meanwhile)."""
    # NO KEY UPDATE: two merges still queue on these rows, but a daily renewal run writing rows
    # that point at them (FOR KEY SHARE) goes on instead of deadlocking with open_windows below.
    rows = {
        a.pk: a
        for a in Account.objects.select_for_update(of=("self",), no_key=True)
        .select_related("account_manager", "prospector")
        .filter(pk__in=[survivor_id, merged_id])
        .order_by("pk")
    }
    for pk in (survivor_id, merged_id):
        if pk not in rows:
            into = AccountRedirect.objects.filter(old_id=pk).select_related("account").first()
            if into is not None:
                raise AccountMergeRefused(
                    f"Account {pk} was already merged into {into.account.name} (account {into.account_id})."
                )
            raise AccountMergeRefused(f"Account {pk} no longer exists.")
    return rows[survivor_id], rows[merged_id]


def _follow_account_manager(survivor: Account, merged: Account, am: User | None, now: datetime) -> int:
    """The survivor's AM (or the merged account's, when the survivor has none) takes over what
    the other AM held on these accounts: open renewal work, renewal opportunities, expansion
    leads. Returns the number of expansion leads moved. Runs before the rows move."""
    if am is None:
        return 0
    moving = [a for a in (survivor, merged) if a.account_manager_id != am.pk]
    contract_ids = list(Contract.objects.filter(account__in=moving).values_list("pk", flat=True))
    if contract_ids:
        open_windows(contract_ids=contract_ids, now=now)  # windows that waited for an AM
        work.move_items(model=Contract, subject_ids=contract_ids, owner_id=am.pk, team_id=am.team_id)
    Opportunity.objects.filter(
        account__in=moving, kind=Opportunity.Kind.RENEWAL, status=Opportunity.Status.OPEN
    ).update(owner=am)
    moved = 0
    for account in moving:
        if account.account_manager_id is not None:
            moved += move_expansion_leads(
                account=account, from_am_id=account.account_manager_id, to=am, now=now
            )
    return moved


def _account_urls(pk: int) -> list[str]:
    return [reverse("renewals:account", args=[pk]), reverse("accounts:target", args=[pk])]


def merge_accounts(
    *,
    survivor: Account | int,
    merged: Account | int,
    chosen: dict[str, str] | None,
    by: User,
    now: datetime | None = None,
) -> MergeRecord:
    """Merge ``merged`` into ``survivor``: ``chosen`` says, per field of ``ACCOUNT_FIELDS``,
    whose value stays ("survivor" or "merged"; by default the survivor's, blanks filled).
    Contacts, opportunities, logged work, contracts (with their renewal work), the timeline and
    older redirects move; notifications pointing at the merged account point at the survivor;
    the survivor's account manager stays unless it has none; it is a customer if either was
    (since the earlier date); it stays a target of the chosen prospector. A note is logged on
    the survivor, a ``MergeRecord`` and an ``AccountRedirect`` are written, and the merged
    account is deleted, all in one transaction."""
    now = now or timezone.now()
    survivor_id, merged_id = _pk(survivor), _pk(merged)
    if survivor_id == merged_id:
        raise AccountMergeRefused("An account cannot be merged into itself.", field="survivor")
    if not may_merge_accounts(by):
        raise AccountMergeRefused("Only managers merge accounts.")
    unknown = [
        (label, name) for label, name, _ in account_relations() if (label, name) not in MOVED_RELATIONS
    ]
    if unknown:  # a new foreign key to Account: deleting the merged row would lose its rows
        raise RuntimeError(f"merge_accounts does not know how to move {unknown}")
    with transaction.atomic():
        keep, gone = _locked_pair(survivor_id, merged_id)
        sides = _checked_choices(chosen, keep, gone)
        merged_values = _snapshot(gone)
        am = keep.account_manager or gone.account_manager
        moved: dict[str, int] = {"expansion_leads": _follow_account_manager(keep, gone, am, now)}

        # The merged row is deleted: take the full lock now, after whatever committed rows pointing
        # at it meanwhile (the moves below read them), and before moving everything.
        list(Account.objects.select_for_update().filter(pk=gone.pk).values_list("pk", flat=True))
        for label, name, model in account_relations():
            moved[MOVED_RELATIONS[(label, name)]] = model._base_manager.filter(**{name: gone.pk}).update(
                **{name: keep.pk}
            )
        old_urls, new_url = _account_urls(gone.pk), keep.get_absolute_url()
        moved["notifications"] = Notification.objects.filter(url__in=old_urls).update(url=new_url)

        if sides["domain"] == MERGED and gone.domain:
            # The domain is unique: the merged row lets go of it before the survivor takes it.
            Account.objects.filter(pk=gone.pk).update(domain="")
        for name in ACCOUNT_FIELDS:
            if sides[name] == MERGED:
                setattr(keep, f"{name}_id" if name == "prospector" else name, _value(gone, name))
        keep.account_manager = am
        starts = [d for d in (keep.customer_since, gone.customer_since) if d is not None]
        keep.customer_since = min(starts) if starts else None
        if keep.is_customer or gone.is_customer:
            keep.churned_at = None
        else:
            keep.churned_at = max((d for d in (keep.churned_at, gone.churned_at) if d), default=None)
        keep.created_at = min(keep.created_at, gone.created_at)
        keep.save(
            update_fields=[
                *(f"{n}" for n in ACCOUNT_FIELDS),
                "account_manager",
                "customer_since",
                "churned_at",
                "created_at",
            ]
        )
        Activity.objects.create(
            account=keep,
            kind=Activity.Kind.NOTE,
            at=now,
            actor=by,
            note=(
                f"Merged {gone.name} (account {gone.pk}{f', {gone.domain}' if gone.domain else ''}) into this "
                f"account: {moved['contacts']} contacts, {moved['opportunities']} opportunities, "
                f"{moved['contracts']} contracts moved."
            ),
        )
        record = MergeRecord.objects.create(
            kind=Kind.ACCOUNT,
            survivor_id=keep.pk,
            merged_id=gone.pk,
            merged_by=by,
            merged_at=now,
            merged_values=merged_values,
            chosen=sides,
            moved=moved,
        )
        Account.objects.filter(pk=gone.pk).delete()
        AccountRedirect.objects.create(old_id=gone.pk, account=keep, merged_at=now)
    return record
