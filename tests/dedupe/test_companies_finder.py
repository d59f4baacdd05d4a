"""The company duplicate finder: which accounts it proposes as one company, with what evidence
and strength; dismissed pairs; the page, its query count and who may see it."""

import hashlib
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from dedupe.companies import find_pair_keys, normalised_name, registrable_domain, similarity, trigrams
from dedupe.models import DismissedPair, Kind
from team.models import Role
from tests.factories import UserFactory, customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
LIST = reverse("dedupe:companies")


def account(name, domain=""):
    return Account.objects.create(name=name, domain=domain)


def pairs():
    """{(first name, second name): ({evidence kinds}, strength)}"""
    names = dict(Account.objects.values_list("pk", "name"))
    return {
        (names[p.first_id], names[p.second_id]): ({e.kind for e in p.evidence}, p.strength)
        for p in find_pair_keys()
    }


@pytest.mark.parametrize(
    ("domain", "registered"),
    [
        ("acme.com", "acme.com"),
        ("www.acme.com", "acme.com"),
        ("eu.shop.acme.com", "acme.com"),
        ("acme.co.uk", "acme.co.uk"),
        ("www.acme.co.uk", "acme.co.uk"),
        ("gmail.com", ""),
        ("www.gmail.com", ""),
        ("", ""),
        ("localhost", ""),
    ],
)
def test_registrable_domain(domain, registered):
    assert registrable_domain(domain) == registered


@pytest.mark.parametrize(
    ("name", "normal"),
    [
        ("Acme GmbH", "acme"),
        ("ACME, Inc.", "acme"),
        ("Acme Ltd", "acme"),
        ("Acme LLC", "acme"),
        ("Acmé S.A.", "acme"),
        ("Acme S.L.", "acme"),
        ("Acme SAS", "acme"),
        ("Acme B.V.", "acme"),
        ("Acme AG", "acme"),
        ("The Acme Company", "acme"),  # "company" is a legal form (kit.legal_forms)
        ("Müller & Söhne GmbH", "muller and sohne"),
        ("GmbH", ""),
    ],
)
def test_normalised_name_sets_legal_forms_and_punctuation_aside(name, normal):
    assert normalised_name(name) == normal


def test_the_same_registrable_domain_is_evidence(db):
    account("Acme", "acme.example")
    account("Widgets Europe", "eu.acme.example")
    account("Globex", "globex.example")

    assert pairs() == {("Acme", "Widgets Europe"): ({"domain"}, 95)}


def test_a_free_mail_domain_never_makes_two_companies_one(db):
    account("Pat's bakery", "gmail.com")
    account("Sam's garage", "www.gmail.com")

    assert pairs() == {}


def test_the_same_name_without_its_legal_form_is_evidence(db):
    account("Acme GmbH", "acme.de")
    account("ACME, Inc.", "acme-corp.example")

    assert pairs() == {("Acme GmbH", "ACME, Inc."): ({"name"}, 85)}


def test_domain_and_name_together_are_the_strongest_evidence(db):
    account("Acme GmbH", "acme.example")
    account("ACME Inc.", "www.acme.example")
    account("Acme (old CRM)", "old.acme.example")

    found = pairs()
    assert found[("Acme GmbH", "ACME Inc.")] == ({"domain", "name"}, 100)
    assert found[("Acme GmbH", "Acme (old CRM)")][0] >= {"domain"}
    assert next(iter(found)) == ("Acme GmbH", "ACME Inc.")  # strongest first


def test_similar_names_are_proposed(db):
    account("Initech Solutions GmbH", "initech.example")
    account("Initech Solution", "initech-solution.example")
    account("Initrode", "initrode.example")
    account("Globex", "globex.example")

    found = pairs()
    assert set(found) == {("Initech Solutions GmbH", "Initech Solution")}
    kinds, strength = found[("Initech Solutions GmbH", "Initech Solution")]
    assert kinds == {"similar"} and 48 <= strength < 80


@pytest.mark.skipif(connection.vendor != "postgresql", reason="pg_trgm is PostgreSQL's")
@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("acme widgets", "acme widget"),
        ("initech", "initrode"),
        ("acme-widgets 42", "acme widgets"),
        ("a", "b"),
        ("x", ""),
    ],
)
def test_the_similarity_is_pg_trgms(db, a, b):
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity(%s, %s)", [a, b])
        expected = cursor.fetchone()[0]
    assert similarity(trigrams(a), trigrams(b)) == pytest.approx(expected, abs=1e-6)


def test_a_dismissed_pair_is_not_proposed_again(client_for, manager):
    acme, acme_inc = account("Acme GmbH", "acme.example"), account("Acme Inc", "acme.com")
    account("Globex", "globex.example")
    account("Globex AG", "globex.de")

    response = client_for(manager).post(reverse("dedupe:companies_dismiss", args=[acme_inc.pk, acme.pk]))

    assert response.status_code == 302 and response.url == LIST
    assert DismissedPair.objects.get().first_id == acme.pk  # stored in id order
    assert set(pairs()) == {("Globex", "Globex AG")}
    page = client_for(manager).get(LIST)
    body = page.content.decode()
    assert "no longer proposed as one company" in body  # the message after the redirect
    assert f'data-pair="{acme.pk}-{acme_inc.pk}"' not in body and "Globex AG" in body
    # dismissed twice (two tabs): still one row, no error
    again = client_for(manager).post(reverse("dedupe:companies_dismiss", args=[acme.pk, acme_inc.pk]))
    assert again.status_code == 302 and DismissedPair.objects.filter(kind=Kind.ACCOUNT).count() == 1


# --- the page -----------------------------------------------------------------------------------


def test_the_page_lists_each_pair_with_its_evidence(client_for, manager, am):
    customer(am, name="Acme GmbH", domain="acme.example")
    account("ACME Inc.", "www.acme.example")

    response = client_for(manager).get(LIST)

    body = response.content.decode()
    assert response.status_code == 200
    assert "Same domain: acme.example" in body and "Same name: acme" in body
    assert "Customer of" in body and "Compare and merge" in body


def make_pairs(start: int, n: int) -> None:
    """n pairs of one company under two accounts (names unlike each other's: hashes)."""
    names = [hashlib.md5(str(i).encode()).hexdigest()[:12] for i in range(start, start + n)]
    Account.objects.bulk_create(
        [Account(name=f"{name} GmbH", domain=f"{name}.example") for name in names]
        + [Account(name=f"{name} Inc", domain=f"www.{name}.example") for name in names]
    )


def test_the_page_issues_the_same_queries_for_3_pairs_or_60(client_for, manager):
    client = client_for(manager)
    make_pairs(0, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST).status_code == 200
    make_pairs(3, 57)  # more pairs than a page shows
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    assert response.status_code == 200 and "Page 1 of 3" in response.content.decode()
    assert len(many) == len(few) <= 8
    assert client.get(LIST, {"page": "3"}).content.decode().count("data-pair=") == 10


@pytest.mark.parametrize("role", [Role.AM, Role.AE, Role.INBOUND_SDR, Role.OUTBOUND_SDR])
def test_other_roles_may_not_see_the_finder(client_for, role):
    a, b = account("Acme GmbH", "acme.example"), account("Acme Inc", "www.acme.example")
    client = client_for(UserFactory(username=f"u-{role}", role=role))

    assert client.get(LIST).status_code == 403
    assert client.get(reverse("dedupe:companies_merge", args=[a.pk, b.pk])).status_code == 403
    assert client.post(reverse("dedupe:companies_dismiss", args=[a.pk, b.pk])).status_code == 403
    assert not DismissedPair.objects.exists()


def test_marketing_sees_and_dismisses_but_does_not_merge(client_for, marketing):
    a, b = account("Acme GmbH", "acme.example"), account("Acme Inc", "www.acme.example")
    client = client_for(marketing)

    page = client.get(LIST).content.decode()
    assert "Compare" in page and "Compare and merge" not in page
    assert (
        client.post(reverse("dedupe:companies_merge", args=[a.pk, b.pk]), {"survivor": a.pk}).status_code
        == 403
    )
    assert Account.objects.count() == 2
    assert client.post(reverse("dedupe:companies_dismiss", args=[a.pk, b.pk])).status_code == 302


def test_the_finder_needs_a_login(client):
    response = client.get(LIST)
    assert response.status_code == 302 and "login" in response.url


def test_the_pairs_are_cached_until_an_account_changes(db, monkeypatch):
    from dedupe import companies

    a, b = account("Acme GmbH"), account("ACME Inc.")
    account("Zeta Widgets", "zeta.example")
    grouped = []
    real = companies._pair_keys
    monkeypatch.setattr(companies, "_pair_keys", lambda rows: grouped.append(1) or real(rows))

    assert set(pairs()) == {("Acme GmbH", "ACME Inc.")}
    assert set(pairs()) == {("Acme GmbH", "ACME Inc.")} and len(grouped) == 1  # from the cache

    Account.objects.filter(pk=b.pk).update(name="Beta Inc.")  # no hook told anyone
    c = account("Zeta Widget Ltd", "www.zeta.example")
    assert set(pairs()) == {("Zeta Widgets", "Zeta Widget Ltd")} and len(grouped) == 2
    c.delete()
    Account.objects.filter(pk=b.pk).update(name="Acme")
    assert set(pairs()) == {("Acme GmbH", "Acme")} and len(grouped) == 3
    assert a.pk < b.pk
