"""Logged work: an AE or an AM writes down a call, a meeting or a note on an account, on one of
its opportunities, or (through ``renewals``) on one of its contracts."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from team.models import User

from ..access import may_log_on_opportunity, works_account
from ..models import Account, Activity, Contact, Opportunity
from .common import AccountsError

NOTE_MAX = 2000


def _checked_note(kind: str, note: str) -> str:
    if kind not in Activity.Kind.values:
        raise AccountsError("Choose a call, a meeting or a note.", field="kind")
    note = (note or "").strip()
    if kind == Activity.Kind.NOTE and not note:
        raise AccountsError("Write the note.", field="note")
    if len(note) > NOTE_MAX:
        raise AccountsError(f"Keep it under {NOTE_MAX} characters.", field="note")
    return note


def log_work(
    *,
    by: User,
    kind: str,
    note: str,
    account_id: int | None = None,
    opportunity_id: int | None = None,
    contact_id: int | None = None,
    now: datetime | None = None,
) -> Activity:
    """Log a call, a meeting or a note on an opportunity (``opportunity_id``: whoever works it
    logs, and it shows on its account too) or on an account (``account_id``: its AM or their
    manager). A contact, when given, must be one of the account's people. The refusals name
    the field at fault; a user who may not log here is refused without one (403 on a page)."""
    note = _checked_note(kind, note)
    now = now or timezone.now()
    with transaction.atomic():
        opportunity = None
        if opportunity_id is not None:
            opportunity = (
                Opportunity.objects.select_related("owner__team", "account").filter(pk=opportunity_id).first()
            )
            if opportunity is None or not may_log_on_opportunity(by, opportunity):
                raise AccountsError("Only whoever works this opportunity logs work on it.")
            account = opportunity.account
        else:
            found = (
                Account.objects.select_related("account_manager").filter(pk=account_id).first()
                if account_id is not None
                else None
            )
            if found is None or not works_account(by, found):
                raise AccountsError("Only the account's AM (or their manager) logs work on it.")
            account = found
        return record_activity(account=account, opportunity=opportunity, contact_id=contact_id, by=by,
                               kind=kind, note=note, at=now)  # fmt: skip


def record_activity(
    *,
    account: Account,
    by: User,
    kind: str,
    note: str,
    at: datetime,
    opportunity: Opportunity | None = None,
    contact_id: int | None = None,
) -> Activity:
    """The row itself, for a caller that has already checked who may log (``log_work``, the
    renewals app's contract logging): inside the caller's transaction."""
    note = _checked_note(kind, note)
    if contact_id is not None and not Contact.objects.filter(pk=contact_id, account=account).exists():
        raise AccountsError("Choose one of the account's people.", field="contact")
    return Activity.objects.create(
        account=account, opportunity=opportunity, contact_id=contact_id, kind=kind, note=note, at=at, actor=by
    )
