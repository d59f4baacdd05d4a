"""The merge screen: both accounts side by side, a choice per differing field, what moves; a
POST merges and goes to the survivor; bad input answers 400 with the form's errors."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account, AccountRedirect, Contact
from dedupe.models import MergeRecord
from tests.factories import customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def pair(am):
    """Acme GmbH (Casey's customer, two contacts) and an ACME Inc. prospect with one."""
    acme = customer(am, name="Acme GmbH", domain="acme.example")
    dup = Account.objects.create(name="ACME Inc.", domain="www.acme.example", industry="Software")
    Contact.objects.create(account=acme, email="a@acme.example")
    Contact.objects.create(account=acme, email="b@acme.example")
    Contact.objects.create(account=dup, email="c@acme.example")
    return acme, dup


def url(a, b):
    return reverse("dedupe:companies_merge", args=[a.pk, b.pk])


def test_the_screen_shows_both_sides_and_a_choice_per_differing_field(client_for, am_manager, pair):
    acme, dup = pair

    response = client_for(am_manager).get(url(dup, acme))  # either order

    body = response.content.decode()
    assert response.status_code == 200
    assert "Same domain: acme.example" in body and "Same name: acme" in body
    for name in ("survivor", "name", "domain", "industry"):
        assert f'name="{name}"' in body
    assert 'name="country"' not in body  # the same on both: no choice
    assert "2 contacts" in body and "1 contact," in body
    assert (
        f"If <strong>Acme GmbH</strong> (account {acme.pk}) stays: 1 contact, 0 opportunities and 0 contracts move"
        in body
    )
    assert f"If <strong>ACME Inc.</strong> (account {dup.pk}) stays: 2 contacts, 0 opportunities" in body
    # the customer with more attached is proposed as the survivor
    assert response.context["form"]["survivor"].value() == str(acme.pk)


def test_a_merge_posted_goes_to_the_survivor_with_what_moved(client_for, am_manager, pair):
    acme, dup = pair

    response = client_for(am_manager).post(
        url(acme, dup),
        {"survivor": acme.pk, "name": acme.pk, "domain": acme.pk, "industry": dup.pk},
        follow=True,
    )

    assert response.redirect_chain == [(reverse("renewals:account", args=[acme.pk]), 302)]
    assert "Merged ACME Inc. into Acme GmbH: 1 contacts" in response.content.decode()
    acme.refresh_from_db()
    assert (acme.name, acme.domain, acme.industry) == ("Acme GmbH", "acme.example", "Software")
    assert acme.contacts.count() == 3 and not Account.objects.filter(pk=dup.pk).exists()
    assert client_for(am_manager).get(reverse("renewals:account", args=[dup.pk])).status_code == 302


def test_a_manager_who_may_not_read_the_survivor_goes_back_to_the_finder(client_for, manager, pair):
    acme, dup = pair

    response = client_for(manager).post(
        url(acme, dup), {"survivor": dup.pk, "name": dup.pk, "domain": dup.pk, "industry": dup.pk}
    )

    assert response.status_code == 302 and response.url == reverse("dedupe:companies")
    assert AccountRedirect.objects.get(old_id=acme.pk).account_id == dup.pk


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "survivor"),
        ({"survivor": "12345678"}, "survivor"),
        ({"survivor": "x"}, "survivor"),
        ({"survivor": "SELF", "name": "99999999"}, "name"),
    ],
)
def test_bad_input_answers_400_with_the_fields_message_and_merges_nothing(
    client_for, am_manager, pair, data, field
):
    acme, dup = pair
    data = {k: (acme.pk if v == "SELF" else v) for k, v in data.items()}

    response = client_for(am_manager).post(url(acme, dup), data)

    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Account.objects.count() == 2 and not MergeRecord.objects.exists()


def test_a_pair_already_merged_says_so(client_for, am_manager, pair):
    acme, dup = pair
    client = client_for(am_manager)
    client.post(url(acme, dup), {"survivor": acme.pk, "name": acme.pk, "domain": acme.pk, "industry": dup.pk})

    response = client.get(url(acme, dup), follow=True)

    assert response.redirect_chain[-1][0] == reverse("dedupe:companies")
    assert "was already merged" in response.content.decode()


def test_a_pair_of_unknown_accounts_is_404(client_for, am_manager, pair):
    acme, _ = pair
    client = client_for(am_manager)
    assert client.get(reverse("dedupe:companies_merge", args=[acme.pk, 99999999])).status_code == 404
    assert client.get(reverse("dedupe:companies_merge", args=[acme.pk, acme.pk])).status_code == 404
    assert client.post(reverse("dedupe:companies_dismiss", args=[acme.pk, 99999999])).status_code == 404


def test_the_screen_issues_the_same_queries_whatever_the_accounts_hold(client_for, am_manager, pair):
    acme, dup = pair
    client = client_for(am_manager)
    with CaptureQueriesContext(connection) as few:
        client.get(url(acme, dup))
    Contact.objects.bulk_create(Contact(account=dup, email=f"p{i}@acme.example") for i in range(40))
    with CaptureQueriesContext(connection) as many:
        response = client.get(url(acme, dup))
    assert "41 contacts" in response.content.decode()
    assert len(many) == len(few)


@pytest.mark.parametrize("junk", ["99999999999999999999", "9223372036854775808", "0"])
def test_junk_ids_answer_404_never_500(client_for, am_manager, pair, junk):
    acme, _ = pair
    client = client_for(am_manager)
    assert client.get(f"/duplicates/companies/{acme.pk}/{junk}/").status_code == 404
    assert client.post(f"/duplicates/companies/{junk}/{acme.pk}/", {"survivor": acme.pk}).status_code == 404
    assert client.post(f"/duplicates/companies/{acme.pk}/{junk}/dismiss/").status_code == 404
    assert client.get(f"/accounts/{junk}/").status_code == 404
    assert client.get(f"/targets/{junk}/").status_code == 404


@pytest.mark.parametrize("page", ["x", "-1", "0", "99999999999999999999", "1e9", ""])
def test_junk_page_numbers_show_a_page(client_for, am_manager, pair, page):
    assert client_for(am_manager).get(reverse("dedupe:companies"), {"page": page}).status_code == 200
