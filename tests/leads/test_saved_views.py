"""Saved views of the lead list: saving the filters and sort under a name, opening them, sharing
with the team or everyone, renaming, updating, deleting, the default view, and what happens
when a view's filters no longer apply."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from leads.models import Lead, SavedView
from tests.factories import CampaignFactory, LeadFactory

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

LIST = reverse("leads:list")


def save(client, name, query, scope="personal", **extra):
    return client.post(reverse("leads:view_create"), {"name": name, "query": query, "scope": scope, **extra})


def names_on(response) -> str:
    return response.content.decode()


def test_a_saved_view_reopens_its_filters_and_sort(client_for, inbound_sdr):
    LeadFactory(first_name="Zoe", company="Zeta", status="mql", owner=inbound_sdr)
    LeadFactory(first_name="Bob", company="Other", status="nurture", owner=inbound_sdr)
    client = client_for(inbound_sdr)

    response = save(client, "My MQLs", "status=mql&sort=grade&page=3")
    view = SavedView.objects.get()
    assert response.status_code == 302 and response["Location"] == f"{LIST}?view={view.pk}"
    assert view.query == "status=mql&sort=grade"  # the page is not part of a view

    body = names_on(client.get(LIST, {"view": view.pk}))
    assert "Zoe" in body and "Bob" not in body
    assert 'aria-current="page">My MQLs' in body
    assert '<option value="grade" selected>' in body


def test_a_view_is_personal_unless_shared(client_for, inbound_sdr, other_sdr, manager):
    sam = client_for(inbound_sdr)
    save(sam, "Sam's private MQLs", "status=mql")
    assert "private MQLs" in names_on(sam.get(LIST))
    view = SavedView.objects.get()
    for other in (other_sdr, manager):
        body = names_on(client_for(other).get(LIST, {"view": view.pk}))
        assert "private MQLs" not in body
        assert "no longer exists or is no longer shared with you" in body
        assert client_for(other).post(reverse("leads:view_delete", args=[view.pk])).status_code == 404
    assert SavedView.objects.filter(pk=view.pk).exists()


def test_a_rep_shares_with_their_team_only(client_for, inbound_sdr, other_sdr, outbound_sdr):
    client = client_for(inbound_sdr)
    response = save(client, "For everyone", "status=mql", scope="everyone")
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    assert not SavedView.objects.exists()

    assert save(client, "Team MQLs", "status=mql", scope="team").status_code == 302
    assert "Team MQLs" in names_on(client_for(other_sdr).get(LIST))  # Lena, same team
    assert "Team MQLs" not in names_on(client_for(outbound_sdr).get(LIST))  # Tom, another team


def test_a_manager_shares_with_everyone(client_for, manager, outbound_sdr):
    assert (
        save(client_for(manager), "Hot hand-raisers", "hand_raiser=true", scope="everyone").status_code == 302
    )
    body = names_on(client_for(outbound_sdr).get(LIST))
    assert f'Hot hand-raisers <small class="muted">· {manager}</small>' in body  # Tom, another team


def test_only_the_owner_or_a_manager_changes_a_shared_view(client_for, inbound_sdr, other_sdr, manager):
    save(client_for(inbound_sdr), "Team MQLs", "status=mql", scope="team")
    view = SavedView.objects.get()
    lena = client_for(other_sdr)
    assert (
        lena.post(reverse("leads:view_update", args=[view.pk]), {"query": "status=nurture"}).status_code
        == 403
    )
    assert lena.post(reverse("leads:view_delete", args=[view.pk])).status_code == 403
    assert "Update “Team MQLs”" not in names_on(lena.get(LIST, {"view": view.pk}))

    maria = client_for(manager)
    response = maria.post(
        reverse("leads:view_edit", args=[view.pk]), {"name": "Team MQLs (checked)", "scope": "team"}
    )
    assert response.status_code == 302
    view.refresh_from_db()
    assert view.name == "Team MQLs (checked)" and view.owner == inbound_sdr
    assert maria.post(reverse("leads:view_delete", args=[view.pk])).status_code == 302
    assert not SavedView.objects.exists()


def test_the_owner_renames_updates_and_deletes(client_for, inbound_sdr):
    client = client_for(inbound_sdr)
    save(client, "Mine", "status=mql")
    view = SavedView.objects.get()

    response = client.post(reverse("leads:view_update", args=[view.pk]), {"query": "status=working&q=acme"})
    assert response.status_code == 302
    view.refresh_from_db()
    assert view.query == "status=working&q=acme"

    client.post(reverse("leads:view_edit", args=[view.pk]), {"name": "  Working at Acme ", "scope": "team"})
    view.refresh_from_db()
    assert (view.name, view.scope, view.team_id) == ("Working at Acme", "team", inbound_sdr.team_id)

    response = client.post(reverse("leads:view_delete", args=[view.pk]), follow=True)
    assert "Deleted the view “Working at Acme”." in response.content.decode()
    assert not SavedView.objects.exists()


def test_changed_filters_offer_to_update_the_open_view(client_for, inbound_sdr):
    client = client_for(inbound_sdr)
    save(client, "Mine", "status=mql")
    view = SavedView.objects.get()
    unchanged = names_on(client.get(LIST, {"view": view.pk}))
    assert 'disabled title="The filters are those the view has">Update “Mine”' in unchanged
    changed = names_on(client.get(LIST, {"view": view.pk, "status": "working"}))
    assert '<button type="submit">Update “Mine”</button>' in changed
    assert 'name="query" value="status=working"' in changed


def test_a_view_whose_filter_no_longer_exists_opens_with_a_message(client_for, inbound_sdr):
    LeadFactory(first_name="Zoe", status="mql", owner=inbound_sdr)
    LeadFactory(first_name="Bob", status="nurture", owner=inbound_sdr)
    view = SavedView.objects.create(owner=inbound_sdr, name="Old", query="status=mql&region=emea&sort=zodiac")
    response = client_for(inbound_sdr).get(LIST, {"view": view.pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert "The view “Old” uses filters that no longer exist (region, sort &#x27;zodiac&#x27;)" in body
    assert "Zoe" in body and "Bob" not in body  # what still applies does


def test_a_view_of_a_deleted_campaign_says_so(client_for, manager):
    campaign = CampaignFactory(name="Spring")
    LeadFactory(first_name="Zoe", campaign=campaign)
    view = SavedView.objects.create(owner=manager, name="Spring leads", query=f"campaign={campaign.pk}")
    campaign.delete()
    response = client_for(manager).get(LIST, {"view": view.pk})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Some filters of the view “Spring leads” no longer apply" in body
    assert "campaign: Select a valid choice" in body


def test_filters_with_errors_are_not_saved(client_for, manager):
    client = client_for(manager)
    response = save(client, "Broken", "captured_after=garbage")
    assert response.status_code == 400
    assert "The current filters have errors (captured); fix them before saving." in response.content.decode()
    assert save(client, "Mine", "status=mql").status_code == 302
    response = save(client, "Mine", "status=working")
    assert (
        response.status_code == 400 and "You already have a view named “Mine”." in response.content.decode()
    )
    response = save(client, "   ", "status=working")
    assert response.status_code == 400
    assert SavedView.objects.count() == 1


def test_the_default_view_opens_on_a_bare_list(client_for, inbound_sdr):
    LeadFactory(first_name="Zoe", status="mql", owner=inbound_sdr)
    LeadFactory(first_name="Bob", status="nurture", owner=inbound_sdr)
    client = client_for(inbound_sdr)
    save(client, "MQLs", "status=mql", is_default="on")
    save(client, "Nurture", "status=nurture", is_default="on")  # the newer default replaces it
    assert list(SavedView.objects.filter(is_default=True).values_list("name", flat=True)) == ["Nurture"]
    bare = names_on(client.get(LIST))
    assert "Bob" in bare and "Zoe" not in bare
    everything = names_on(client.get(LIST, {"view": ""}))  # "All leads" and Reset
    assert "Bob" in everything and "Zoe" in everything


def test_an_unknown_sort_falls_back_to_the_default(client_for, manager):
    LeadFactory(first_name="Old", last_name="Lead", captured_at=datetime(2026, 1, 1, tzinfo=UTC))
    LeadFactory(first_name="New", last_name="Lead", captured_at=datetime(2026, 11, 1, tzinfo=UTC))
    response = client_for(manager).get(LIST, {"sort": "salary"})
    body = response.content.decode()
    assert response.status_code == 200 and "errors" not in body.split("<table")[0].split("lead-table")[1]
    assert body.index(">New Lead<") < body.index(">Old Lead<")


def test_roles_without_leads_have_no_views(client_for, ae):
    assert (
        client_for(ae).post(reverse("leads:view_create"), {"name": "x", "scope": "personal"}).status_code
        == 403
    )
    assert client_for(ae).get(LIST).status_code == 403


@pytest.mark.parametrize("size", [2, 30])
def test_the_list_with_saved_views_issues_a_fixed_number_of_queries(
    client_for, manager, other_sdr, django_assert_num_queries, size
):
    campaign = CampaignFactory()
    LeadFactory.create_batch(size, campaign=campaign, status=Lead.Status.MQL)
    for n in range(size):
        SavedView.objects.create(owner=manager, name=f"Mine {n}", query="status=mql")
        SavedView.objects.create(owner=other_sdr, name=f"Lena's {n}", query="sort=grade", scope="everyone")
    view = SavedView.objects.filter(owner=manager).first()
    client = client_for(manager)
    # session, user, saved views, campaigns and owners for the filter form, count, page,
    # scoring settings, the managed teams the email links read once
    with django_assert_num_queries(9):
        response = client.get(LIST, {"view": view.pk})
    body = response.content.decode()
    assert body.count("?view=") >= 2 * size
    assert body.count('name="lead"') == min(size, 50)
    shared = SavedView.objects.filter(owner=other_sdr).first()
    with django_assert_num_queries(9):  # a manager may change a shared view: no query more
        response = client.get(LIST, {"view": shared.pk})
    assert "Update “Lena&#x27;s" in response.content.decode()
