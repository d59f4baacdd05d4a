"""Who may open which insight page and endpoint: each role its sections, nobody more, and an
SDR's numbers are their own whatever the query string says."""

from datetime import UTC, datetime, timedelta

import pytest

from team.models import Role
from tests.factories import UserFactory, api_token

from .test_pages import funnel_lead, tables_of, text_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
PAGES = {
    "funnel": "/insight/funnel/",
    "speed": "/insight/speed/",
    "money": "/insight/money/",
    "retention": "/insight/retention/",
    "health": "/insight/rows/win_rate/",
}
API = {
    "funnel": ["/api/v1/insight/funnel/"],
    "speed": ["/api/v1/insight/speed/", "/api/v1/insight/decay/"],
    "money": ["/api/v1/insight/money/", "/api/v1/insight/pipeline/"],
    "retention": ["/api/v1/insight/retention/"],
    "health": ["/api/v1/insight/health/"],
}
ALLOWED = {
    Role.MANAGER: {"funnel", "speed", "money", "retention", "health"},
    Role.MARKETING: {"funnel", "money"},
    Role.INBOUND_SDR: {"funnel", "speed"},
    Role.OUTBOUND_SDR: {"funnel", "speed"},
    Role.AE: {"funnel"},
    Role.AM: {"retention"},
    Role.INTEGRATION: set(),
}


@pytest.mark.parametrize("role", list(ALLOWED))
def test_each_role_opens_its_sections_and_no_other(client, role):
    user = UserFactory(username=f"u_{role}", role=role)
    client.force_login(user)
    allowed = ALLOWED[role]
    assert client.get("/insight/").status_code == (200 if allowed else 403)
    for section, path in PAGES.items():
        assert client.get(path).status_code == (200 if section in allowed else 403), (role, path)
        if section not in ("health",):
            csv_path = f"{path}{'cohort' if section == 'funnel' else 'decay' if section == 'speed' else 'pipeline' if section == 'money' else 'churn'}.csv"
            assert client.get(csv_path).status_code == (200 if section in allowed else 403), csv_path
    client.logout()
    token = api_token(user)
    for section, paths in API.items():
        for path in paths:
            response = client.get(path, HTTP_AUTHORIZATION=f"Token {token}")
            assert response.status_code == (200 if section in allowed else 403), (role, path)
    nav = client.get("/insight/" if allowed else "/account/tokens/")
    if nav.status_code == 200 and nav.get("Content-Type", "").startswith("text/html"):
        assert ('href="/insight/"' in nav.content.decode()) == bool(allowed)


def test_anonymous_is_sent_to_log_in_and_the_api_refuses(client):
    response = client.get("/insight/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get("/insight/funnel/cohort.csv").status_code == 302
    response = client.get("/api/v1/insight/funnel/")
    assert response.status_code == 403
    assert "detail" in response.json()


@pytest.fixture
def two_sdrs(inbound_sdr, other_sdr, ae):
    from tests.factories import CampaignFactory

    ads = CampaignFactory(name="Ads", channel="paid_search", cost=0)
    day = datetime(2026, 11, 10, 9, tzinfo=UTC)
    for i in range(2):
        funnel_lead(inbound_sdr, ae, ads, captured=day + timedelta(hours=i))
    for i in range(5):
        funnel_lead(other_sdr, ae, ads, captured=day + timedelta(hours=i))
    return inbound_sdr, other_sdr


def test_an_sdr_sees_only_their_own_numbers_even_asking_for_anothers(client_for, two_sdrs):
    sam, lena = two_sdrs
    client = client_for(sam)
    cohort = tables_of(client.get("/insight/funnel/"))["cohort"]
    assert cohort[1][:2] == ["First seen", "2"]
    # Asking for Lena's: a form error, not her numbers.
    response = client.get("/insight/funnel/", {"sdr": lena.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in text_of(response)
    assert client.get("/insight/funnel/cohort.csv", {"sdr": lena.pk}).status_code == 400
    response = client.get("/api/v1/insight/funnel/", {"sdr": lena.pk})
    assert response.status_code == 400
    assert "sdr" in response.json()
    # Their own id is allowed (and changes nothing).
    assert client.get("/api/v1/insight/funnel/", {"sdr": sam.pk}).json()["cohort"][0]["count"] == 2
    # The speed by rep shows Sam only.
    reps = [row[0] for row in tables_of(client.get("/insight/speed/"))["speed-rep"][1:]]
    assert reps == [str(sam)]


def test_marketing_sees_no_names(client_for, marketing, two_sdrs):
    sam, lena = two_sdrs
    client = client_for(marketing)
    response = client.get("/insight/funnel/")
    body = response.content.decode()
    assert str(sam) not in body and str(lena) not in body
    assert 'name="sdr"' not in body
    assert client.get("/insight/funnel/", {"sdr": sam.pk}).status_code == 400
    assert client.get("/api/v1/insight/funnel/", {"by": "sdr"}).status_code == 400
    response = client.get("/insight/funnel/", {"by": "sdr"})  # falls back to campaigns
    assert tables_of(response)["slice"][0][0] == "Campaign"


def test_an_ae_sees_their_own_opportunities_only(client_for, two_sdrs, ae, other_ae):
    response = client_for(other_ae).get("/api/v1/insight/funnel/")
    assert response.json()["cohort"][0]["count"] == 0
    response = client_for(ae).get("/api/v1/insight/funnel/")
    assert response.json()["cohort"][0]["count"] == 7
