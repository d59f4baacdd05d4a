"""One way to show a moment, a day and an amount: the ``display`` tag library and the zone it
shows moments in (the viewer's preference, else their team calendar's, else UTC)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from team.models import Role
from team.zones import user_zone
from tests.factories import CalendarFactory, LeadFactory, TeamFactory, UserFactory

NOW = datetime(2026, 12, 7, 8, 30, tzinfo=UTC)

pytestmark = pytest.mark.usefixtures("frozen")


def render(text: str, **context) -> str:
    return Template("{% load display %}" + text).render(Context(context))


def test_a_moment_is_shown_in_the_active_zone_with_its_abbreviation():
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert render("{{ at|when }}", at=NOW) == "Mon 7 Dec 2026, 09:30 CET"
    with timezone.override(ZoneInfo("America/New_York")):
        assert render("{{ at|when }}", at=NOW) == "Mon 7 Dec 2026, 03:30 EST"
    with timezone.override(ZoneInfo("UTC")):
        assert render("{{ at|when }}", at=NOW) == "Mon 7 Dec 2026, 08:30 UTC"


def test_the_abbreviation_follows_daylight_saving_time_across_the_switch():
    # Berlin leaves summer time at 01:00 UTC on 25 October 2026.
    before = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    after = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert render("{{ a|when }} / {{ b|when }}", a=before, b=after) == (
            "Sun 25 Oct 2026, 02:30 CEST / Sun 25 Oct 2026, 02:30 CET"
        )


def test_a_day_is_the_local_day_of_a_moment_and_a_date_as_it_is():
    late = datetime(2026, 12, 7, 23, 30, tzinfo=UTC)
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert render("{{ at|day }}", at=late) == "Tue 8 Dec 2026"
        assert render("{{ d|day }}", d=date(2026, 12, 31)) == "Thu 31 Dec 2026"


def test_nothing_shows_nothing_so_a_default_can_take_its_place():
    assert (
        render('{{ at|when|default:"never" }} {{ d|day|default:"—" }} {{ m|money|default:"—" }}')
        == "never — —"
    )


def test_what_is_not_a_moment_or_an_amount_is_shown_as_it_is_not_a_server_error():
    assert render("{{ a|when }}|{{ a|day }}|{{ a|money }}|{{ a|iso }}", a="soon") == "soon|soon|soon|soon"


def test_iso_is_utc_for_machines():
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert render("{{ at|iso }}", at=NOW) == "2026-12-07T08:30:00+00:00"


def test_money_carries_the_installations_currency(settings):
    settings.REFINERY_CURRENCY = "EUR"
    assert render(
        "{{ a|money }} {{ b|money }} {{ c|money }}", a=Decimal("12000"), b=Decimal("1234.5"), c=0
    ) == ("€12,000 €1,234.50 €0")
    settings.REFINERY_CURRENCY = "USD"
    assert render("{{ a|money }}", a=Decimal("99.99")) == "$99.99"
    settings.REFINERY_CURRENCY = "CHF"
    assert render("{{ a|money }}", a=Decimal("-5")) == "-CHF 5"


@pytest.mark.django_db
def test_a_persons_zone_is_their_preference_then_their_team_calendars_then_utc():
    berlin_team = TeamFactory(name="Inbound EMEA")
    person = UserFactory(role=Role.INBOUND_SDR, team=berlin_team)
    assert user_zone(person).key == "Europe/Berlin"

    person.timezone = "America/New_York"
    assert user_zone(person).key == "America/New_York"

    loner = UserFactory(role=Role.MARKETING, team=None)
    assert user_zone(loner).key == "UTC"


@pytest.mark.django_db
def test_pages_show_times_in_the_viewers_own_zone_over_their_teams(client_for):
    calendar = CalendarFactory(name="New York office", timezone="America/New_York")
    team = TeamFactory(name="AMs", kind="am", calendar=calendar)
    person = UserFactory(username="pat", role=Role.AM, team=team)
    client = client_for(person)

    page = client.get("/account/preferences/").content.decode()
    assert "Mon 7 Dec 2026, 03:30 EST" in page

    person.timezone = "Asia/Tokyo"
    person.save(update_fields=["timezone"])
    page = client.get("/account/preferences/").content.decode()
    assert "Mon 7 Dec 2026, 17:30 JST" in page


@pytest.mark.django_db
def test_finding_the_viewers_zone_adds_no_query_to_a_page(client_for, django_assert_num_queries):
    person = UserFactory(username="pat", role=Role.AM, team=TeamFactory(name="AMs", kind="am"))
    client = client_for(person)
    # The session, the user with their team's calendar (one join), and nothing else: the
    # preferences page itself asks the database nothing.
    with django_assert_num_queries(2):
        page = client.get("/account/preferences/")
    assert "Mon 7 Dec 2026, 09:30 CET" in page.content.decode()


@pytest.mark.django_db
def test_the_api_answers_in_utc_whatever_the_viewers_zone(client_for, marketing):
    marketing.timezone = "Asia/Tokyo"
    marketing.save(update_fields=["timezone"])
    lead = LeadFactory(captured_at=NOW)
    response = client_for(marketing).get(f"/api/v1/leads/{lead.pk}/")
    assert response.status_code == 200
    assert response.json()["captured_at"] in ("2026-12-07T08:30:00Z", "2026-12-07T08:30:00+00:00")
