"""A person's own time zone: the Preferences page, linked from the top bar."""

from datetime import UTC, datetime

import pytest

from team.models import Role
from tests.factories import TeamFactory, UserFactory

NOW = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)

pytestmark = [pytest.mark.usefixtures("frozen"), pytest.mark.django_db]


@pytest.fixture
def person():
    return UserFactory(username="pat", role=Role.AE, team=TeamFactory(name="AEs", kind="sales"))


def test_the_top_bar_links_to_the_preferences_page(client_for, person):
    page = client_for(person).get("/account/tokens/").content.decode()
    assert 'href="/account/preferences/">Preferences</a>' in page


def test_the_page_offers_the_team_calendars_zone_and_every_iana_zone_by_place(client_for, person):
    page = client_for(person).get("/account/preferences/").content.decode()
    assert "My team calendar&#x27;s (Europe/Berlin, now 09:30 CET)" in page
    assert '<option value="America/New_York">New York (America/New_York)</option>' in page
    assert '<optgroup label="Asia">' in page


def test_choosing_a_zone_shows_every_time_in_it(client_for, person):
    client = client_for(person)
    response = client.post("/account/preferences/", {"timezone": "America/New_York"}, follow=True)
    page = response.content.decode()
    assert "Times are now shown in America/New_York." in page
    assert "Mon 7 Dec 2026, 03:30 EST" in page
    person.refresh_from_db()
    assert person.timezone == "America/New_York"


def test_blank_goes_back_to_the_team_calendars_zone(client_for, person):
    person.timezone = "Asia/Tokyo"
    person.save(update_fields=["timezone"])
    response = client_for(person).post("/account/preferences/", {"timezone": ""}, follow=True)
    assert "Times are now shown in Europe/Berlin." in response.content.decode()
    person.refresh_from_db()
    assert person.timezone == ""


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "Europe/Berlin'; --", "x" * 200])
def test_an_unknown_zone_is_refused_with_a_message_and_nothing_saved(client_for, person, zone):
    response = client_for(person).post("/account/preferences/", {"timezone": zone})
    assert response.status_code == 400
    page = response.content.decode()
    assert 'class="errorlist' in page
    person.refresh_from_db()
    assert person.timezone == ""


def test_signed_out_the_page_asks_to_sign_in(client):
    response = client.get("/account/preferences/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_the_admin_shows_and_edits_the_zone(admin_client, person):
    page = admin_client.get(f"/admin/team/user/{person.pk}/change/").content.decode()
    assert 'name="timezone"' in page
