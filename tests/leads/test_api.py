from datetime import timedelta

import pytest
from django.utils import timezone

from leads.models import ActivityKind, ActivitySource, Lead
from leads.services import capture_lead
from tests.factories import CampaignFactory, LeadFactory, api_token


@pytest.mark.django_db
def test_create_lead_cleans_and_scores_it(api_for, marketing, profile, campaign):
    response = api_for(marketing).post(
        "/api/v1/leads/",
        {
            "email": " Kim@Globex.example ",
            "first_name": "Kim",
            "title": "Director of IT",
            "industry": "TECHNOLOGY",
            "employees": "501-1000",
            "annual_revenue": "$2.5M",
            "country": "United States",
            "campaign": campaign.pk,
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["email"] == "kim@globex.example"
    assert (body["employees"], body["annual_revenue"], body["country"]) == (501, "2500000.00", "US")
    assert body["fit_score"] == 100 and body["grade"].startswith("A")
    assert body["campaign_name"] == campaign.name


@pytest.mark.django_db
def test_known_email_answers_200_and_adds_an_activity(api_for, marketing):
    client = api_for(marketing)
    first = client.post("/api/v1/leads/", {"email": "kim@globex.example"}, format="json")
    again = client.post(
        "/api/v1/leads/", {"email": "KIM@globex.example", "activity": "webinar"}, format="json"
    )

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Lead.objects.get().activities.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "nope"}, "email"),
        ({}, "email"),
        ({"email": "a@b.example", "campaign": 999999}, "campaign"),
        ({"email": "a@b.example", "activity": "teleport"}, "activity"),
        ({"email": "a@b.example", "company": "x" * 201}, "company"),
        ({"email": "a@b.example", "hand_raiser": "perhaps"}, "hand_raiser"),
    ],
)
def test_bad_input_is_400_with_field_messages_and_nothing_saved(api_for, marketing, payload, field):
    response = api_for(marketing).post("/api/v1/leads/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_malformed_json_is_400(api_for, marketing):
    response = api_for(marketing).post("/api/v1/leads/", "{not json", content_type="application/json")
    assert response.status_code == 400


@pytest.mark.django_db
def test_list_filters(api_for, manager):
    google, events = CampaignFactory(name="Google"), CampaignFactory(name="Events")
    hot = LeadFactory(
        campaign=google, status=Lead.Status.MQL, hand_raiser=True, fit_grade="A", company="Zeta Labs"
    )
    LeadFactory(campaign=events, status=Lead.Status.NURTURE, captured_at=timezone.now() - timedelta(days=40))
    client = api_for(manager)

    def ids(query):
        response = client.get(f"/api/v1/leads/?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("status=mql") == [hot.pk]
    assert ids(f"campaign={google.pk}") == [hot.pk]
    assert ids("hand_raiser=true") == [hot.pk]
    assert ids("grade=A") == [hot.pk]
    assert ids("q=zeta") == [hot.pk]
    assert ids(f"captured_after={(timezone.now() - timedelta(days=7)).isoformat()}".replace("+", "%2B")) == [
        hot.pk
    ]
    assert len(ids("")) == 2


@pytest.mark.django_db
def test_bad_filter_values_are_400_not_500(api_for, manager):
    client = api_for(manager)
    for query in [
        "status=bogus",
        "captured_after=yesterday",
        "campaign=abc",
        "owner=-1",
        "hand_raiser=maybe",
    ]:
        assert client.get(f"/api/v1/leads/?{query}").status_code == 400, query


@pytest.mark.django_db
def test_detail_has_timeline_and_fit_explanation(api_for, manager, profile):
    lead = capture_lead(
        email="kim@globex.example",
        details={"industry": "Technology", "employees": 300},
        via=ActivitySource.API,
    ).lead
    response = api_for(manager).get(f"/api/v1/leads/{lead.pk}/")

    assert response.status_code == 200
    body = response.json()
    assert [e["kind"] for e in body["timeline"]] == ["form_fill", "captured"] or {
        e["kind"] for e in body["timeline"]
    } == {"form_fill", "captured"}
    explained = {line["criterion"].split(":")[0]: line for line in body["fit_explanation"]}
    assert explained["Industry"]["matched"] and explained["Industry"]["points"] == 40
    assert not explained["Country"]["matched"] and explained["Country"]["lead_value"] == "unknown"


@pytest.mark.django_db
def test_log_activity(api_for, manager):
    lead = LeadFactory()
    response = api_for(manager).post(
        f"/api/v1/leads/{lead.pk}/activities/", {"kind": "demo_view"}, format="json"
    )

    assert response.status_code == 201
    assert response.json()["points"] == 15
    lead.refresh_from_db()
    assert lead.engagement() == pytest.approx(15)


@pytest.mark.django_db
def test_activity_in_the_future_is_refused(api_for, manager):
    lead = LeadFactory()
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = api_for(manager).post(
        f"/api/v1/leads/{lead.pk}/activities/", {"kind": "visit", "occurred_at": future}, format="json"
    )
    assert response.status_code == 400 and "occurred_at" in response.json()
    assert not lead.activities.exists()


@pytest.mark.django_db
def test_rating_is_set_and_on_the_timeline(api_for, manager):
    lead = LeadFactory()
    response = api_for(manager).post(f"/api/v1/leads/{lead.pk}/rating/", {"rating": "A"}, format="json")

    assert response.status_code == 200 and response.json()["rating"] == "A"
    assert lead.events.get(kind="rated").actor == manager
    bad = api_for(manager).post(f"/api/v1/leads/{lead.pk}/rating/", {"rating": "Z"}, format="json")
    assert bad.status_code == 400


@pytest.mark.django_db
def test_sdr_sees_only_own_leads(api_for, inbound_sdr, other_sdr):
    mine, theirs = LeadFactory(owner=inbound_sdr), LeadFactory(owner=other_sdr)
    client = api_for(inbound_sdr)

    assert [r["id"] for r in client.get("/api/v1/leads/").json()["results"]] == [mine.pk]
    assert client.get(f"/api/v1/leads/{theirs.pk}/").status_code == 404
    assert (
        client.post(f"/api/v1/leads/{theirs.pk}/activities/", {"kind": "visit"}, format="json").status_code
        == 404
    )
    assert not theirs.activities.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ae", "am"])
def test_aes_and_ams_never_see_raw_leads(api_for, request, role):
    user = request.getfixturevalue(role)
    lead = LeadFactory()
    client = api_for(user)

    assert client.get("/api/v1/leads/").status_code == 403
    assert client.get(f"/api/v1/leads/{lead.pk}/").status_code == 403
    assert client.post("/api/v1/leads/", {"email": "x@y.example"}, format="json").status_code == 403
    assert Lead.objects.count() == 1


@pytest.mark.django_db
def test_anonymous_is_refused(api):
    assert api.get("/api/v1/leads/").status_code in (401, 403)
    assert api.post("/api/v1/leads/", {"email": "x@y.example"}, format="json").status_code in (401, 403)


@pytest.mark.django_db
def test_token_authentication(api, marketing):
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(marketing)}")
    assert api.post("/api/v1/leads/", {"email": "t@y.example"}, format="json").status_code == 201


@pytest.mark.django_db
def test_token_endpoint_issues_a_token(api, marketing):
    response = api.post(
        "/api/v1/auth/token/", {"username": marketing.username, "password": "pw"}, format="json"
    )
    assert response.status_code == 200 and response.json()["token"]


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 10, 40])
def test_list_issues_a_fixed_number_of_queries(api_for, manager, django_assert_num_queries, size):
    campaign = CampaignFactory()
    LeadFactory.create_batch(size, campaign=campaign, owner=None)
    client = api_for(manager)
    # count, page, the page's tags (one prefetch), scoring settings (auth is forced: no session)
    with django_assert_num_queries(4):
        response = client.get("/api/v1/leads/")
    assert response.status_code == 200 and len(response.json()["results"]) == size


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_a_cdn(client, marketing):
    assert client.get("/api/schema/").status_code in (401, 403)  # for signed-in users and tokens only
    client.force_login(marketing)
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"/api/v1/leads/" in schema.content
    docs = client.get("/api/docs/").content.decode()
    assert "swagger-ui" in docs and "cdn" not in docs.lower() and "unpkg" not in docs


@pytest.mark.django_db
def test_capture_through_the_api_of_an_activity_kind(api_for, marketing):
    api_for(marketing).post("/api/v1/leads/", {"email": "w@x.example", "activity": "webinar"}, format="json")
    assert Lead.objects.get().activities.get().kind == ActivityKind.WEBINAR
