"""Who may email whom, and whose mailbox and emails they see.

    who                 emails                                         sees the emails of
    an SDR              the leads in their own queue                   those leads
    an AE               the contacts of accounts they have             those contacts (and
                        opportunities on                               their leads)
    an account manager  the contacts of their customers' accounts      the same
    a manager           the leads in the teams they manage             the same
    a superuser         anyone                                         everything
    anyone else         nobody                                         nothing

A mailbox (its settings, never its passwords: those are not shown to anyone once saved) is
its owner's alone. Templates: shared ones are read by everyone who sends and edited by
managers and marketing; a personal one is its owner's.
"""

from django.db.models import Q, QuerySet

from accounts.access import visible_opportunities
from accounts.models import Contact
from leads.models import Lead
from sdr.access import may_run_cadence
from team.access import can_manage_reps
from team.models import Role

from .models import Message, Template


def may_send(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def may_email_lead(user, lead: Lead) -> bool:
    """The lead's owner (its SDR, or the AM of an expansion lead), a manager of its team, a
    superuser."""
    if not may_send(user):
        return False
    if user.is_superuser or (lead.owner_id is not None and lead.owner_id == user.pk):
        return True
    return may_run_cadence(user, lead)


def may_email_contact(user, contact: Contact) -> bool:
    """Whoever works an opportunity on the contact's account (its AE, the account's AM, their
    managers: ``accounts.access.visible_opportunities``), or may email the contact's lead."""
    if not may_send(user):
        return False
    if user.is_superuser:
        return True
    if contact.account.account_manager_id == user.pk:
        return True
    if visible_opportunities(user).filter(account_id=contact.account_id).exists():
        return True
    return contact.lead is not None and may_email_lead(user, contact.lead)


def may_edit_shared_templates(user) -> bool:
    return bool(user.is_superuser or can_manage_reps(user) or user.role == Role.MARKETING)


def templates_for(user) -> QuerySet[Template]:
    """The templates ``user`` may use: the shared ones and their own."""
    return Template.objects.filter(Q(owner__isnull=True) | Q(owner=user))


def may_edit_template(user, template: Template) -> bool:
    if template.owner_id is None:
        return may_edit_shared_templates(user)
    return template.owner_id == user.pk


def may_see_message(user, message: Message) -> bool:
    if user.is_superuser or message.sender_id == user.pk:
        return True
    if message.lead is not None and may_email_lead(user, message.lead):
        return True
    return message.contact is not None and may_email_contact(user, message.contact)
