"""The duplicate people pages: the pairs, the merge screen, dismissing, the old id's redirect,
who may use them and what they cost."""

import re
from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dedupe.models import DismissedPair, Kind, MergeRecord
from leads.models import Lead
from tests.factories import LeadFactory, UserFactory

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def pair(n=0, **merged_fields):
    """Ada at Acme, twice: the older lead (kept by default) and a newer one under a free-mail
    address with another title."""
    kept = LeadFactory(
        email=f"ada{n}@acme.example",
        first_name="Ada",
        last_name=f"Lovelace{n}",
        company="Acme GmbH",
        title="CTO",
    )
    other = LeadFactory(
        email=f"ada{n}@gmail.com",
        first_name="Ada",
        last_name=f"Lovelace{n}",
        company="ACME gmbh",
        title="",
        phone="+49 30 1234567",
        **merged_fields,
    )
    Lead.objects.filter(pk=other.pk).update(first_seen_at=datetime(2026, 11, 25, tzinfo=UTC))
    return kept, other


def checked(body: str, name: str) -> str:
    """The value of the radio button checked for ``name``."""
    found = re.findall(rf'<input type="radio" name="{name}" value="(\w+)"[^>]*\bchecked\b', body)
    assert len(found) == 1, found
    return found[0]


def merge_url(merged, survivor):
    return reverse("dedupe:people_merge", args=[merged.pk, survivor.pk])


def test_the_list_shows_each_pair_with_its_evidence_and_the_lead_to_keep(client_for, manager):
    kept, other = pair()
    LeadFactory(email="someone@else.example", first_name="Bob", last_name="Other")

    response = client_for(manager).get(reverse("dedupe:people"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "1 pair" in body and "same name and company: Ada Lovelace0, Acme GmbH / ACME gmbh" in body
    assert merge_url(other, kept) in body  # the lead first seen is kept by default
    assert "Bob" not in body
    assert f'href="{reverse("dedupe:people")}">Duplicates</a>' in body  # the top menu's link


def test_sdrs_aes_and_strangers_may_not_use_it(client, client_for, inbound_sdr, ae):
    kept, other = pair()
    urls = [reverse("dedupe:people"), merge_url(other, kept)]
    for user in (inbound_sdr, ae, UserFactory(role="integration")):
        c = client_for(user)
        for url in urls:
            assert c.get(url).status_code == 403, (user.role, url)
        assert c.post(merge_url(other, kept), {}).status_code == 403
        assert c.post(reverse("dedupe:people_dismiss", args=[kept.pk, other.pk])).status_code == 403
        assert "Duplicates</a>" not in c.get(reverse("home"), follow=True).content.decode()
    client.logout()
    assert client.get(urls[0]).status_code == 302
    assert Lead.objects.count() == 2 and not DismissedPair.objects.exists()


def test_marketing_may_use_it(client_for, marketing):
    kept, other = pair()
    assert client_for(marketing).get(merge_url(other, kept)).status_code == 200


def test_the_list_costs_the_same_queries_whatever_the_number_of_pairs(client_for, manager):
    c = client_for(manager)
    c.get(reverse("dedupe:people"))  # the session and the user, cached like any later page

    def queries() -> int:
        cache.clear()  # the finder's statement included, not its cached pairs
        with CaptureQueriesContext(connection) as captured:
            assert c.get(reverse("dedupe:people")).status_code == 200
        return len(captured)

    for n in range(2):
        pair(n)
    few = queries()
    for n in range(2, 40):
        pair(n)
    LeadFactory.create_batch(25, phone="+1 800 555 0100")  # a large group too
    many = queries()
    # the key refresh is two statements on PostgreSQL, a few ORM ones on SQLite
    assert few == many <= (12 if connection.vendor == "postgresql" else 16)


def test_the_merge_screen_shows_both_and_proposes_a_value_per_differing_field(client_for, manager):
    kept, other = pair()

    body = client_for(manager).get(merge_url(other, kept)).content.decode()

    assert "Ada" in body and kept.email in body and other.email in body
    # title: the survivor's (the merged lead's is empty); phone: the merged lead's (the survivor has none)
    assert checked(body, "title") == "survivor" and checked(body, "phone") == "merged"
    assert 'name="first_name"' not in body  # the same on both: nothing to choose


def test_merging_from_the_screen_redirects_to_the_survivor_and_the_old_id_follows(client_for, manager):
    kept, other = pair()
    c = client_for(manager)

    response = c.post(
        merge_url(other, kept),
        {"company": "merged", "title": "survivor", "phone": "merged", "email": "survivor"},
    )

    assert response.status_code == 302 and response["Location"] == reverse("leads:detail", args=[kept.pk])
    kept.refresh_from_db()
    assert (kept.company, kept.phone, kept.email) == ("ACME gmbh", "+49 30 1234567", "ada0@acme.example")
    page = c.get(response["Location"]).content.decode()
    assert f"Lead {other.pk} (ada0@gmail.com) was merged into this lead." in page
    old = c.get(reverse("leads:detail", args=[other.pk]))
    assert old.status_code == 302 and old["Location"] == reverse("leads:detail", args=[kept.pk])
    assert c.get(reverse("dedupe:people")).context["page"].paginator.count == 0


def test_the_old_id_does_not_reveal_a_survivor_the_person_may_not_see(client_for, manager, inbound_sdr):
    kept, other = pair()
    client_for(manager).post(
        merge_url(other, kept),
        {"company": "survivor", "title": "survivor", "phone": "survivor", "email": "survivor"},
    )
    assert client_for(inbound_sdr).get(reverse("leads:detail", args=[other.pk])).status_code == 404


def test_a_bad_choice_answers_400_with_the_form_and_merges_nothing(client_for, manager):
    kept, other = pair()
    c = client_for(manager)

    response = c.post(merge_url(other, kept), {"company": "both", "title": "survivor"})

    assert response.status_code == 400
    body = response.content.decode()
    assert "Select a valid choice. both is not one of the available choices." in body
    assert "This field is required." in body  # phone and email left out
    assert Lead.objects.count() == 2 and not MergeRecord.objects.exists()


def test_a_pair_merged_meanwhile_is_said_so(client_for, manager, marketing):
    kept, other = pair()
    choices = {"company": "survivor", "title": "survivor", "phone": "survivor", "email": "survivor"}
    client_for(manager).post(merge_url(other, kept), choices)

    response = client_for(marketing).post(merge_url(other, kept), choices)

    assert response.status_code == 409
    assert f"Lead {other.pk} was already merged into lead {kept.pk}." in response.content.decode()
    assert MergeRecord.objects.count() == 1


def test_unknown_or_identical_leads_answer_404(client_for, manager):
    kept, _ = pair()
    c = client_for(manager)
    assert c.get(reverse("dedupe:people_merge", args=[kept.pk, kept.pk])).status_code == 404
    assert c.get(reverse("dedupe:people_merge", args=[10**9, kept.pk])).status_code == 404
    assert c.post(reverse("dedupe:people_dismiss", args=[kept.pk, 10**9])).status_code == 404


def test_merging_needs_a_post_with_the_csrf_token(manager):
    kept, other = pair()
    c = Client(enforce_csrf_checks=True)
    c.force_login(manager)
    choices = {"company": "survivor", "title": "survivor", "phone": "survivor", "email": "survivor"}

    assert c.post(merge_url(other, kept), choices).status_code == 403
    assert c.get(merge_url(other, kept), choices).status_code == 200
    assert c.get(reverse("dedupe:people_dismiss", args=[kept.pk, other.pk])).status_code == 405
    assert Lead.objects.count() == 2


def test_a_dismissed_pair_leaves_the_list(client_for, manager):
    kept, other = pair()
    c = client_for(manager)

    response = c.post(reverse("dedupe:people_dismiss", args=[other.pk, kept.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("dedupe:people")
    dismissed = DismissedPair.objects.get()
    assert (dismissed.kind, dismissed.first_id, dismissed.second_id, dismissed.dismissed_by) == (
        Kind.LEAD,
        kept.pk,
        other.pk,
        manager,
    )
    body = c.get(reverse("dedupe:people")).content.decode()
    assert "0 pairs" in body and "will not be proposed again" in body
    assert (
        c.post(reverse("dedupe:people_dismiss", args=[kept.pk, other.pk])).status_code == 302
    )  # twice: fine
    assert DismissedPair.objects.count() == 1


def test_the_pairs_are_kept_until_a_key_changes_or_a_pair_is_dismissed(client_for, manager):
    kept, other = pair(0)
    c = client_for(manager)
    assert c.get(reverse("dedupe:people")).context["page"].paginator.count == 1
    other.title = "CEO"
    other.save()  # written, but no key changed
    with CaptureQueriesContext(connection) as captured:
        assert c.get(reverse("dedupe:people")).context["page"].paginator.count == 1
    assert not any("GROUP BY" in q["sql"] for q in captured)  # from the cache: no key changed

    kept1, other1 = pair(1)  # new leads: found at once
    found = c.get(reverse("dedupe:people")).context["page"]
    assert {(p.first_id, p.second_id) for p in found} == {
        (kept.pk, other.pk),
        (kept1.pk, other1.pk),
        (other.pk, other1.pk),  # a phone
    }

    c.post(reverse("dedupe:people_dismiss", args=[kept.pk, other.pk]))
    found = c.get(reverse("dedupe:people")).context["page"]
    assert {(p.first_id, p.second_id) for p in found} == {(kept1.pk, other1.pk), (other.pk, other1.pk)}


def test_a_lead_edited_a_second_before_the_page_is_opened_is_grouped_by_its_new_keys(
    client_for, manager, frozen
):
    _kept, other = pair(0)
    c = client_for(manager)
    assert c.get(reverse("dedupe:people")).context["page"].paginator.count == 1
    frozen.shift(1)
    other.first_name, other.phone = "Augusta", ""
    other.save()

    assert c.get(reverse("dedupe:people")).context["page"].paginator.count == 0
