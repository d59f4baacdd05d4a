"""Search shows each person only what they may open: for every role, what one search finds is
exactly what the pages' own accessors let them open (``leads.access.get_lead_for_user``,
``accounts.access.opportunity_for`` and ``target_for``, ``renewals.access.account_for`` and
``contract_for``), and nothing hidden shows through a hit, a link or a count."""

from datetime import date, datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from accounts.access import opportunity_for, target_for
from accounts.models import Account, Contact, Opportunity
from leads.access import get_lead_for_user
from leads.models import Lead
from renewals.access import account_for, contract_for
from renewals.models import Contract
from search import access
from search.query import search
from team.models import Role
from tests.factories import LeadFactory, TeamFactory, UserFactory, accepted, contract, customer, handed_off

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime.fromisoformat("2026-03-10T10:00:00+00:00")
WORD = "Zenith"  # every record below carries it, so one search could find them all


def opens(accessor, user, pk) -> bool:
    try:
        accessor(user, pk)
    except (PermissionDenied, Http404):
        return False
    return True


@pytest.fixture
def world(inbound_sdr, other_sdr, manager, outbound_sdr, other_manager, ae, other_ae, sales_manager, am,
          am_manager, marketing):  # fmt: skip
    """Two SDRs' leads, handoffs to two AEs, two AMs' customers with contacts and contracts, a
    target account, an account nobody manages, each named with ``WORD``."""
    other_am = UserFactory(username="otto", role=Role.AM, team=TeamFactory(name="AMs West", kind="am"))
    LeadFactory(
        owner=inbound_sdr, first_name="Sam's", last_name="Lead", company=f"{WORD} Sam", email="a@sam.example"
    )
    LeadFactory(
        owner=other_sdr, first_name="Lena's", last_name="Lead", company=f"{WORD} Lena", email="b@lena.example"
    )
    LeadFactory(
        owner=None, first_name="Nobody's", last_name="Lead", company=f"{WORD} Pool", email="c@pool.example"
    )
    accepted(
        inbound_sdr,
        ae,
        first_name="Deal",
        last_name="One",
        company=f"{WORD} Deal One",
        email="d1@zenith-one.example",
    )
    handed_off(other_sdr, other_ae, first_name="Deal", last_name="Two", company=f"{WORD} Deal Two",
               email="d2@zenith-two.example")  # fmt: skip
    for owner, name in ((am, f"{WORD} Casey Customer"), (other_am, f"{WORD} Otto Customer")):
        account = customer(owner, name=name, domain=f"{owner.username}.example")
        Contact.objects.create(
            account=account, email=f"{WORD.lower()}@{owner.username}.example", first_name="Ct"
        )
        contract(account, end=date(2026, 12, 31))
    target = Account.objects.create(name=f"{WORD} Target", domain="target.example", prospector=outbound_sdr)
    Contact.objects.create(account=target, email=f"{WORD.lower()}@target.example", first_name="Prospect")
    Account.objects.create(name=f"{WORD} Unmanaged", domain="unmanaged.example")
    ops = UserFactory(username="root", role=Role.MARKETING, is_superuser=True, team=None)
    integration = UserFactory(username="feed", role=Role.INTEGRATION, team=None)
    return {
        user.username: user
        for user in (inbound_sdr, other_sdr, manager, outbound_sdr, other_manager, ae, other_ae, sales_manager, am,
                     am_manager, marketing, other_am, ops, integration)
    }  # fmt: skip


def test_what_search_finds_is_what_each_page_opens(world):
    for user in world.values():
        found = search(user, WORD, limit=100)
        hits = {(hit.kind, hit.url_name, hit.pk) for hit in found.hits}

        expected = {
            ("lead", "leads:detail", lead.pk)
            for lead in Lead.objects.all()
            if opens(get_lead_for_user, user, lead.pk)
        }
        for opportunity in Opportunity.objects.all():
            if opens(opportunity_for, user, opportunity.pk):
                expected.add(("opportunity", "accounts:opportunity", opportunity.pk))
        for term in Contract.objects.all():
            if opens(contract_for, user, term.pk):
                expected.add(("contract", "renewals:contract", term.pk))
        for account in Account.objects.filter(name__startswith=WORD):
            if opens(account_for, user, account.pk):
                expected.add(("account", "renewals:account", account.pk))
            elif opens(target_for, user, account.pk):
                expected.add(("account", "accounts:target", account.pk))
        for contact in Contact.objects.filter(email__icontains=WORD):
            if opens(account_for, user, contact.account_id):
                expected.add(("contact", "renewals:account", contact.account_id))
            elif opens(target_for, user, contact.account_id):
                expected.add(("contact", "accounts:target", contact.account_id))
            else:
                for opportunity in Opportunity.objects.filter(contact=contact):
                    if opens(opportunity_for, user, opportunity.pk):
                        expected.add(("contact", "accounts:opportunity", opportunity.pk))
        # Handoff accounts are named after the lead's company ("Zenith Deal One"), so they count.
        for account in Account.objects.exclude(name__startswith=WORD):
            assert account.name.startswith(WORD) or not any(
                h[0] == "account" and h[2] == account.pk for h in hits
            )
        assert hits == expected, user.username


def test_an_sdr_finds_only_their_own_leads(world, client_for):
    body = client_for(world["sam"]).get(reverse("search:results"), {"q": WORD}).content.decode()
    assert "Sam&#x27;s Lead" in body or "Sam's Lead" in body
    assert "Lena" not in body
    assert "Nobody" not in body
    assert "Casey Customer" not in body  # customers are the AMs'


def test_a_manager_finds_every_lead_and_their_teams_handoffs(world):
    found = search(world["maria"], WORD, limit=100)
    leads = {hit.title for hit in found.hits if hit.kind == "lead"}
    assert {"Sam's Lead", "Lena's Lead", "Nobody's Lead"} <= leads


def test_an_ae_finds_their_opportunities_not_a_colleagues_accepted_one(world):
    alex = {hit.title for hit in search(world["alex"], WORD, limit=100).hits if hit.kind == "opportunity"}
    ana = {hit.title for hit in search(world["ana"], WORD, limit=100).hits if hit.kind == "opportunity"}
    assert alex == {
        "Zenith Deal One: Deal One",
        "Zenith Deal Two: Deal Two",
    }  # Ana's handoff waits in the team
    assert ana == {"Zenith Deal Two: Deal Two"}  # Alex's is accepted: his alone
    assert not [hit for hit in search(world["alex"], WORD, limit=100).hits if hit.kind == "lead"]


def test_an_am_finds_only_their_own_book(world):
    titles = {(hit.kind, hit.title) for hit in search(world["casey"], WORD, limit=100).hits}
    assert ("account", "Zenith Casey Customer") in titles
    assert ("contract", "Zenith Casey Customer") in titles
    assert not [t for t in titles if "Otto" in t[1]]
    assert not [t for t in titles if t[0] in ("lead", "opportunity")]


def test_an_integration_finds_nothing(world, client_for):
    body = client_for(world["feed"]).get(reverse("search:results"), {"q": WORD}).content.decode()
    assert "Nothing found" in body


def test_hidden_records_do_not_show_in_the_count(world, client_for):
    """The page says how many it shows of a kind: for Sam, his two leads, whatever Lena has."""
    before = (
        client_for(world["sam"])
        .get(reverse("search:results"), {"q": WORD})
        .content.decode()
        .split("<main>")[1]
    )
    for n in range(30):
        LeadFactory(owner=world["lena"], company=f"{WORD} More {n}")
    after = (
        client_for(world["sam"])
        .get(reverse("search:results"), {"q": WORD})
        .content.decode()
        .split("<main>")[1]
    )
    found = search(world["sam"], WORD, limit=1)
    assert before == after
    assert [
        len(group.hits) for group in search(world["sam"], WORD, limit=100).groups if group.kind == "lead"
    ] == [2]
    assert [group.more for group in found.groups if group.kind == "lead"] == [True]  # his own second lead


def test_rules_are_querysets_for_roles_with_nothing_to_see(world):
    """AEs and AMs see no raw lead; SDRs and AEs no customer account or contract."""
    assert not access.leads(world["alex"]).exists()
    assert not access.leads(world["casey"]).exists()
    assert not access.contracts(world["sam"]).exists()
    assert not access.contracts(world["alex"]).exists()
