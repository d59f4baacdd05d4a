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
its owner's alone; integration service accounts have none. Templates: shared ones are read by
everyone who sends and edited by managers and marketing; a personal one is its owner's. An
address comes off the suppression list by a manager's (or superuser's) hand, for a lead or
contact they may email.

Pages listing many leads or contacts ask ``EmailRules`` (the same rules, with what they need
read once per page) whether to link an address to the composer.
"""

from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from accounts.access import visible_opportunities
from accounts.models import Account, Contact
from leads.models import Lead
from sdr.access import may_run_cadence
from team.access import can_manage_reps, managed_teams
from team.models import Role, User

from .models import Message, Template


def may_send(user) -> bool:
    return bool(user.is_authenticated and user.is_active)


def may_have_mailbox(user) -> bool:
    """Everyone who sends: every person, not an integration's service account."""
    return may_send(user) and user.role != Role.INTEGRATION


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


def may_remove_suppression(user) -> bool:
    """Managers and superusers take an address off the suppression list (for a lead or contact
    they may email)."""
    return bool(may_send(user) and can_manage_reps(user))


def emailable_contacts(user, account: Account) -> QuerySet[Contact]:
    """The contacts of ``account`` that ``user`` may email (``may_email_contact``, for a whole
    account at once)."""
    contacts = Contact.objects.filter(account=account).select_related("account", "lead")
    if not may_send(user):
        return contacts.none()
    if (
        user.is_superuser
        or account.account_manager_id == user.pk
        or visible_opportunities(user).filter(account_id=account.pk).exists()
    ):
        return contacts
    return contacts.filter(lead__in=_emailable_leads(user))


def _emailable_leads(user) -> QuerySet[Lead]:
    if user.is_sdr:
        return Lead.objects.filter(owner=user)
    if can_manage_reps(user):
        teams = managed_teams(user)
        return Lead.objects.filter(Q(team__in=teams) | Q(owner__team__in=teams))
    return Lead.objects.none()


@dataclass
class EmailRules:
    """``may_email_lead`` and ``may_email_contact`` for the many rows of one page: the managed
    teams, their members and the accounts of the visible opportunities are read once, when
    first needed (a row's lead or contact is expected with its account and lead loaded); whether
    an account's opportunities are visible is read once per account."""

    user: User
    _team_ids: set[int] | None = field(default=None, init=False)
    _member_ids: set[int] | None = field(default=None, init=False)
    _accounts: dict[int, bool] = field(default_factory=dict, init=False)

    def _managed(self) -> tuple[set[int], set[int]]:
        if self._team_ids is None or self._member_ids is None:
            # One query: each managed team with each of its members (or none).
            rows = list(managed_teams(self.user).values_list("pk", "members__pk"))
            self._team_ids = {team for team, _ in rows}
            self._member_ids = {member for _, member in rows if member is not None}
        return self._team_ids, self._member_ids

    def lead(self, lead: Lead) -> bool:
        user = self.user
        if not may_send(user):
            return False
        if user.is_superuser or (lead.owner_id is not None and lead.owner_id == user.pk):
            return True
        if user.is_sdr or not can_manage_reps(user):
            return False
        team_ids, member_ids = self._managed()
        return lead.team_id in team_ids or lead.owner_id in member_ids

    def _visible_account(self, account_id: int) -> bool:
        """An opportunity of the account is visible to the user: one indexed query per account
        on the page (a page's contacts are nearly always one account's). Reading every visible
        opportunity's account once instead cost an AE with 500 opportunities 19 ms a page."""
        if account_id not in self._accounts:
            self._accounts[account_id] = (
                visible_opportunities(self.user).filter(account_id=account_id).order_by().exists()
            )
        return self._accounts[account_id]

    def contact(self, contact: Contact) -> bool:
        user = self.user
        if not may_send(user):
            return False
        if user.is_superuser:
            return True
        # The account manager's check reads the contact's account: first when it is loaded.
        loaded = Contact.account.is_cached(contact)
        if loaded and contact.account.account_manager_id == user.pk:
            return True
        if self._visible_account(contact.account_id):
            return True
        if not loaded and contact.account.account_manager_id == user.pk:
            return True
        return contact.lead is not None and self.lead(contact.lead)
