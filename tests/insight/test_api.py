"""/api/v1/insight/...: the pages' filters (bad ones are 400s naming the field), the pages'
numbers, and a schema that documents every endpoint with its serializer."""

from datetime import UTC, datetime

import pytest
import yaml

from tests.factories import CampaignFactory

from .test_pages import history, tables_of  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)
ENDPOINTS = ["funnel", "speed", "decay", "money", "pipeline", "retention", "health"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_every_endpoint_answers_with_the_period(client_for, manager, history, name):  # noqa: F811
    response = client_for(manager).get(
        f"/api/v1/insight/{name}/", {"start": "2026-11-01", "end": "2026-11-30"}
    )
    assert response.status_code == 200
    assert response.json()["period"] == {
        "start": "2026-11-01",
        "end": "2026-11-30",
        "timezone": "Europe/Berlin",
        "label": "1 Nov 2026 to 30 Nov 2026 (Europe/Berlin)",
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-11-20", "end": "2026-11-01"}, "end"),
        ({"start": "2024-01-01", "end": "2026-11-01"}, "end"),
        ({"start": "1800-01-01"}, "start"),
        ({"end": "31/12/2026"}, "end"),
        ({"preset": "forever"}, "preset"),
        ({"campaign": "abc"}, "campaign"),
        ({"team": "999999"}, "team"),
        ({"origin": "sideways"}, "origin"),
        ({"fit_grade": "Z"}, "fit_grade"),
    ],
)
def test_bad_filters_are_400_naming_the_field(client_for, manager, params, field):
    response = client_for(manager).get("/api/v1/insight/money/", params)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field] and body[field] and all(isinstance(m, str) for m in body[field])


def test_the_api_gives_the_pages_numbers(client_for, manager, history):  # noqa: F811
    client = client_for(manager)
    page = tables_of(client.get("/insight/funnel/"))
    api = client.get("/api/v1/insight/funnel/").json()
    assert [[s["label"], f"{s['count']:,}"] for s in api["cohort"]] == [row[:2] for row in page["cohort"][1:]]
    assert [[s["label"], f"{s['count']:,}"] for s in api["flow"]] == [row[:2] for row in page["flow"][1:]]

    page = tables_of(client.get("/insight/money/"))
    api = client.get("/api/v1/insight/money/").json()
    by_campaign = {row[0]: row for row in page["by-campaign"][1:]}
    for row in api["by_campaign"]:
        shown = by_campaign[row["label"]]
        assert shown[2:6] == [f"{row[k]:,}" for k in ("leads", "mqls", "qualified", "won")]
        assert shown[6].replace(",", "") == "€" + row["pipeline"]
    months = client.get("/api/v1/insight/pipeline/").json()["months"]
    assert [r[2].replace(",", "") for r in page["pipeline"][1:]] == ["€" + m["pipeline"] for m in months]

    page = tables_of(client.get("/insight/speed/"))
    decay = client.get("/api/v1/insight/decay/").json()["buckets"]
    assert [[b["label"], str(b["leads"])] for b in decay] == [row[:2] for row in page["decay"][1:]]
    speed = client.get("/api/v1/insight/speed/").json()
    assert speed["overall"]["touches"] == 5
    assert speed["overall"]["median_seconds"] == 480


def test_health_links_to_the_rows(client_for, manager, history, frozen):  # noqa: F811
    frozen.shift(42)
    health = client_for(manager).get("/api/v1/insight/health/").json()
    assert health["checked_at"] == "2026-11-25T12:00:00Z"  # the minute the live checks were counted in
    diagnoses = health["diagnoses"]
    assert diagnoses
    assert all(d["link"].startswith("http://testserver/insight/rows/") for d in diagnoses if d["link"])
    triggered = [d["triggered"] for d in diagnoses]
    assert triggered == sorted(triggered, reverse=True)  # the triggered ones first


def test_filters_narrow_the_api_as_the_page(client_for, manager, history):  # noqa: F811
    _ads, news = history
    api = client_for(manager).get("/api/v1/insight/money/", {"campaign": news.pk}).json()
    assert [row["label"] for row in api["by_campaign"]] == ["Newsletter"]
    assert api["total"]["leads"] == 2


def test_schema_documents_every_endpoint(client_for, manager):
    schema = yaml.safe_load(client_for(manager).get("/api/schema/").content)
    for name in ENDPOINTS:
        operation = schema["paths"][f"/api/v1/insight/{name}/"]["get"]
        assert {"200", "400", "403"} <= set(operation["responses"])
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.rsplit("/", 1)[1] in schema["components"]["schemas"]
        params = {p["name"] for p in operation["parameters"]}
        assert {"start", "end", "preset"} <= params
        lead_filters = {"campaign", "channel", "source", "team", "sdr", "origin", "fit_grade"}
        if name == "retention":
            # contracts, not leads: the period and the account manager, and the lead filters are
            # documented as 400s
            assert params == {"start", "end", "preset", "am"}
            assert "lead filter" in operation["description"] and "400" in operation["description"]
            am = next(p for p in operation["parameters"] if p["name"] == "am")
            assert am["schema"]["type"] == "integer" and "account manager" in am["description"]
        else:
            assert lead_filters <= params and "am" not in params


@pytest.mark.parametrize("name", ["campaign", "channel", "source", "team", "origin", "fit_grade"])
def test_a_lead_filter_on_retention_is_a_400_naming_it(client_for, manager, name):
    campaign = CampaignFactory(name="Ads", channel="paid_search", cost=0)
    value = {"campaign": campaign.pk, "channel": "web", "source": "web", "team": manager.team_id}.get(
        name, {"origin": "inbound", "fit_grade": "A"}.get(name)
    )
    response = client_for(manager).get("/api/v1/insight/retention/", {name: value})
    assert response.status_code == 400
    assert list(response.json()) == [name]
    assert "Does not apply to retention" in response.json()[name][0]


def test_retention_defaults_to_the_last_12_months_and_the_rest_to_30_days(client_for, manager, am):
    # NOW is 25 Nov 2026 (Berlin for the manager): this month so far and the 11 before it.
    period = client_for(manager).get("/api/v1/insight/retention/").json()["period"]
    assert (period["start"], period["end"]) == ("2025-12-01", "2026-11-25")
    assert client_for(am).get("/api/v1/insight/retention/").json()["period"]["start"] == "2025-12-01"
    period = client_for(manager).get("/api/v1/insight/money/").json()["period"]
    assert (period["start"], period["end"]) == ("2026-10-27", "2026-11-25")
    named = client_for(manager).get("/api/v1/insight/retention/", {"preset": "30d"}).json()["period"]
    assert named["start"] == "2026-10-27"
    whole = client_for(manager).get("/api/v1/insight/retention/", {"preset": "12m"}).json()
    assert whole["period"]["start"] == "2025-12-01" and len(whole["by_month"]) == 12


def test_unknown_campaign_id_is_refused_not_an_empty_answer(client_for, marketing):
    CampaignFactory(name="Real", channel="web", cost=0)
    response = client_for(marketing).get("/api/v1/insight/money/", {"campaign": 2_000_000})
    assert response.status_code == 400
