"""Merging two accounts that are one company: every relation moves to the survivor in one
transaction, the chosen values stay, the merged id redirects, and who may do it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from accounts.models import Account, AccountRedirect, Activity, Contact, Opportunity, Qualification
from dedupe.models import Kind, MergeRecord
from dedupe.services import MOVED_RELATIONS, AccountMergeRefused, account_relations, merge_accounts
from notifications.models import Kind as NewsKind
from notifications.models import Notification
from renewals.models import AccountEvent, Contract
from team.models import Role
from tests.factories import UserFactory, contract, customer, raise_hand
from work.models import WorkItem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# A Tuesday, 10:00 in Berlin: inside the AMs' business hours.
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def other_am(am):
    return UserFactory(username="kim", role=Role.AM, team=am.team)


@pytest.fixture
def acme(am):
    """The survivor: Acme GmbH, Casey's customer."""
    return customer(am, name="Acme GmbH", domain="acme.example")


@pytest.fixture
def acme_inc(other_am):
    """The duplicate: ACME Inc., Kim's customer, on another domain."""
    return customer(other_am, name="ACME Inc.", domain="acme-inc.example", industry="Software", country="US")


def opportunity(account, owner, **fields):
    values = {
        "name": f"{account.name} deal",
        "budget": Qualification.UNKNOWN,
        "authority": Qualification.UNKNOWN,
        "need": Qualification.UNKNOWN,
        "timing": Qualification.UNKNOWN,
    }
    values.update(fields)
    return Opportunity.objects.create(account=account, owner=owner, **values)


def merge(survivor, merged, by, **chosen):
    return merge_accounts(survivor=survivor, merged=merged, chosen=chosen, by=by)


# --- every relation -------------------------------------------------------------------------


def test_every_foreign_key_to_account_is_one_the_merge_moves():
    found = {(label, name) for label, name, _ in account_relations()}
    assert found == set(MOVED_RELATIONS), f"new relations to Account: {found - set(MOVED_RELATIONS)}"


def test_merge_moves_contacts_opportunities_logged_work_and_timeline(acme, acme_inc, ae, am_manager):
    contact = Contact.objects.create(account=acme_inc, email="pat@acme-inc.example", first_name="Pat")
    deal = opportunity(acme_inc, ae, contact=contact)
    note = Activity.objects.create(account=acme_inc, kind=Activity.Kind.CALL, note="Talked to Pat")
    event = AccountEvent.objects.create(account=acme_inc, kind=AccountEvent.Kind.CUSTOMER, message="Customer")

    record = merge(acme, acme_inc, am_manager)

    for row in (contact, deal, note, event):
        row.refresh_from_db()
        assert row.account_id == acme.pk
    assert not Account.objects.filter(pk=acme_inc.pk).exists()
    assert record.moved["contacts"] == 1 and record.moved["opportunities"] == 1
    assert record.moved["activities"] == 1 and record.moved["events"] == 1


def test_contracts_move_with_their_renewal_work_to_the_survivors_am(acme, acme_inc, am, other_am, am_manager):
    term = contract(acme_inc, end=NOW.date() + timedelta(days=40), now=NOW)  # inside the renewal window
    renewal = Contract.objects.get(pk=term.pk).renewal
    assert renewal is not None and renewal.owner == other_am
    assert set(WorkItem.objects.open().values_list("owner_id", flat=True)) == {other_am.pk}

    merge(acme, acme_inc, am_manager)

    term.refresh_from_db()
    renewal.refresh_from_db()
    assert term.account_id == acme.pk
    assert renewal.account_id == acme.pk and renewal.owner == am
    assert set(WorkItem.objects.open().values_list("owner_id", flat=True)) == {am.pk}
    assert acme.contracts.count() == 1


def test_expansion_leads_follow_the_account_to_the_survivors_am(acme, acme_inc, am, other_am, am_manager):
    lead = raise_hand("pat@acme-inc.example", first_name="Pat")
    lead.refresh_from_db()
    assert lead.owner == other_am
    item = WorkItem.objects.open().get(kind=WorkItem.Kind.EXPANSION_LEAD)

    record = merge(acme, acme_inc, am_manager)

    lead.refresh_from_db()
    item.refresh_from_db()
    assert lead.owner == am and item.owner == am
    assert record.moved["expansion_leads"] == 1


def test_the_survivor_keeps_its_am_and_takes_the_other_when_it_has_none(acme_inc, other_am, am_manager):
    prospect = Account.objects.create(name="Acme", domain="acme.example")

    merge(prospect, acme_inc, am_manager)

    prospect.refresh_from_db()
    assert prospect.account_manager == other_am
    assert prospect.is_customer and prospect.customer_since == acme_inc.customer_since


def test_a_customer_merged_into_a_churned_account_keeps_it_a_customer(acme, am, am_manager):
    gone = customer(am, name="Acme AG", domain="acme.de", churned_at=NOW - timedelta(days=30))
    gone.customer_since = NOW - timedelta(days=900)
    gone.save(update_fields=["customer_since"])

    merge(gone, acme, am_manager)

    gone.refresh_from_db()
    assert gone.is_customer and gone.churned_at is None
    assert gone.customer_since == NOW - timedelta(days=900)


def test_notifications_pointing_at_the_merged_account_point_at_the_survivor(
    acme, acme_inc, other_am, am_manager
):
    news = Notification.objects.create(
        recipient=other_am,
        kind=NewsKind.ASSIGNED,
        text="You manage ACME Inc. now",
        url=acme_inc.get_absolute_url(),
    )

    merge(acme, acme_inc, am_manager)

    news.refresh_from_db()
    assert news.url == reverse("renewals:account", args=[acme.pk])


def test_a_target_accounts_prospector_is_kept_when_chosen(acme, outbound_sdr, am_manager):
    target = Account.objects.create(name="Acme Group", domain="acmegroup.example", prospector=outbound_sdr)

    merge(acme, target, am_manager)

    acme.refresh_from_db()
    assert acme.prospector == outbound_sdr  # the survivor had none: the blank is filled


# --- values chosen, the record, the redirect --------------------------------------------------


def test_chosen_values_stay_and_blanks_are_filled_by_default(acme, acme_inc, am_manager):
    record = merge(acme, acme_inc, am_manager, name="merged", domain="merged")

    acme.refresh_from_db()
    assert (acme.name, acme.domain) == ("ACME Inc.", "acme-inc.example")
    assert (acme.industry, acme.country) == ("Software", "US")  # blank on the survivor
    assert record.chosen == {
        "name": "merged",
        "domain": "merged",
        "industry": "merged",
        "country": "merged",
        "employees": "survivor",
        "prospector": "survivor",
    }


def test_the_merge_is_recorded_noted_and_redirected(acme, acme_inc, am_manager):
    old_id = acme_inc.pk
    earlier = AccountRedirect.objects.create(old_id=999_999, account=acme_inc)

    record = merge(acme, acme_inc, am_manager)

    assert (record.kind, record.survivor_id, record.merged_id, record.merged_by) == (
        Kind.ACCOUNT,
        acme.pk,
        old_id,
        am_manager,
    )
    assert (
        record.merged_values["name"] == "ACME Inc." and record.merged_values["domain"] == "acme-inc.example"
    )
    assert AccountRedirect.objects.get(old_id=old_id).account == acme
    earlier.refresh_from_db()
    assert earlier.account == acme  # an older merge's redirect is one hop too
    note = Activity.objects.get(account=acme, kind=Activity.Kind.NOTE)
    assert note.actor == am_manager and "Merged ACME Inc." in note.note
    assert MergeRecord.objects.count() == 1


def test_the_old_account_page_redirects_to_the_survivor(client_for, acme, acme_inc, am, am_manager):
    old = reverse("renewals:account", args=[acme_inc.pk])
    merge(acme, acme_inc, am_manager)

    response = client_for(am).get(old)

    assert response.status_code == 302 and response.url == reverse("renewals:account", args=[acme.pk])


def test_the_old_account_page_still_answers_404_to_whoever_may_not_see_the_survivor(
    client_for, acme, acme_inc, am_manager
):
    merge(acme, acme_inc, am_manager)
    stranger = UserFactory(username="zed", role=Role.AM)

    assert client_for(stranger).get(reverse("renewals:account", args=[acme_inc.pk])).status_code == 404


def test_the_old_target_page_redirects_to_the_survivor(client_for, outbound_sdr, other_manager):
    keep = Account.objects.create(name="Globex", domain="globex.example", prospector=outbound_sdr)
    gone = Account.objects.create(name="Globex Ltd", domain="globex.co.uk", prospector=outbound_sdr)
    merge(keep, gone, other_manager)

    response = client_for(outbound_sdr).get(reverse("accounts:target", args=[gone.pk]))

    assert response.status_code == 302 and response.url == reverse("accounts:target", args=[keep.pk])


# --- refusals -------------------------------------------------------------------------------


def test_an_account_is_not_merged_into_itself(acme, am_manager):
    with pytest.raises(AccountMergeRefused, match="itself") as refused:
        merge(acme, acme, am_manager)
    assert refused.value.field == "survivor"


def test_an_unknown_field_or_side_is_refused_and_nothing_changes(acme, acme_inc, am_manager):
    with pytest.raises(AccountMergeRefused) as refused:
        merge(acme, acme_inc, am_manager, colour="merged")
    assert refused.value.field == "chosen"
    with pytest.raises(AccountMergeRefused) as refused:
        merge(acme, acme_inc, am_manager, name="both")
    assert refused.value.field == "name"
    assert Account.objects.filter(pk=acme_inc.pk).exists() and not MergeRecord.objects.exists()


def test_merging_an_account_already_merged_says_so(acme, acme_inc, am_manager):
    third = Account.objects.create(name="Acme", domain="")
    merge(acme, acme_inc, am_manager)

    with pytest.raises(AccountMergeRefused, match="already merged into Acme GmbH"):
        merge(third, acme_inc, am_manager)
    assert Account.objects.filter(pk=third.pk).exists()


@pytest.mark.parametrize("role", [Role.AM, Role.AE, Role.MARKETING, Role.INBOUND_SDR])
def test_only_managers_and_superusers_merge(acme, acme_inc, role):
    with pytest.raises(AccountMergeRefused, match="Only managers"):
        merge(acme, acme_inc, UserFactory(username=f"u-{role}", role=role))
    assert Account.objects.count() == 2


def test_a_superuser_merges(acme, acme_inc):
    admin = UserFactory(username="root", role=Role.MARKETING, is_superuser=True)
    merge(acme, acme_inc, admin)
    assert Account.objects.count() == 1


def test_a_failure_half_way_leaves_both_accounts_whole(acme, acme_inc, am_manager, monkeypatch):
    contact = Contact.objects.create(account=acme_inc, email="pat@acme-inc.example")

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(MergeRecord.objects, "create", boom)
    with pytest.raises(RuntimeError):
        merge(acme, acme_inc, am_manager)

    contact.refresh_from_db()
    assert contact.account_id == acme_inc.pk
    assert Account.objects.filter(pk=acme_inc.pk).exists() and not AccountRedirect.objects.exists()


def test_a_relation_the_merge_does_not_know_stops_it_before_anything_moves(
    acme, acme_inc, am_manager, monkeypatch
):
    from dedupe.services import account_merge

    contact = Contact.objects.create(account=acme_inc, email="pat@acme-inc.example")
    known = dict(account_merge.MOVED_RELATIONS)
    del known[("accounts.Contact", "account")]
    monkeypatch.setattr(account_merge, "MOVED_RELATIONS", known)

    with pytest.raises(RuntimeError, match=r"accounts\.Contact"):
        merge(acme, acme_inc, am_manager)

    contact.refresh_from_db()
    assert contact.account_id == acme_inc.pk and Account.objects.filter(pk=acme_inc.pk).exists()
