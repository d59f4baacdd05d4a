"""Everything under /api/ answers errors as JSON in one format, and the schema says so."""

import pytest
import yaml
from rest_framework.test import APIClient

from accounts.api.opportunities import StageViewSet
from accounts.services import AccountsError
from sdr.services import SdrError
from tests.factories import CampaignFactory, LeadFactory


@pytest.fixture
def api(api, manager):
    """The shared API client, every call here Maria's."""
    api.force_authenticate(manager)
    return api


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/stages/abc/",  # the router's pattern takes digits only: Django's own 404
        "/api/v1/queue/leads/x/touch/",
        "/api/v1/no-such-thing/",
        "/api/v2/",
    ],
)
def test_a_path_the_api_does_not_have_is_a_json_404(api, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/stages/abc/", "/api/v1/no-such-thing/"])
def test_the_api_answers_json_404_with_debug_on_too(api, settings, path):
    """`make demo` runs with DEBUG on, where Django answers its technical HTML 404 page."""
    settings.DEBUG = True
    response = api.get(path)
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@pytest.mark.django_db
def test_an_api_path_without_its_slash_is_a_json_404_that_says_so(api):
    response = api.get("/api/v1/leads")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found. Every API path ends with a slash."}


@pytest.mark.django_db
def test_pages_outside_the_api_keep_their_html_404(client, manager):
    client.force_login(manager)
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
def test_wrong_method_type_and_body_are_json_with_a_detail(api):
    response = api.delete("/api/v1/stages/")
    assert response.status_code == 405 and response.json() == {"detail": 'Method "DELETE" not allowed.'}

    response = api.post("/api/v1/leads/", "x", content_type="text/plain")
    assert response.status_code == 415 and "detail" in response.json()

    response = api.post("/api/v1/leads/", "{not json", content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"].startswith("JSON parse error")


@pytest.mark.django_db
def test_a_server_error_under_the_api_is_json(api, monkeypatch):
    def broken(self, request, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(StageViewSet, "list", broken)
    api.raise_request_exception = False
    response = api.get("/api/v1/stages/")
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Server error."}


@pytest.mark.django_db
def test_bad_rows_of_a_list_are_reported_as_an_object_by_row(outbound_sdr):
    from accounts.models import Account

    account = Account.objects.create(name="Initech", domain="initech.example", prospector=outbound_sdr)
    client = APIClient()
    client.force_authenticate(outbound_sdr)
    response = client.post(
        f"/api/v1/target-accounts/{account.pk}/prospects/",
        [{"email": "ok@initech.example"}, {"email": {"not": "a string"}}],
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"1": {"email": ["Not a valid string."]}}  # the second row, 0-based


@pytest.mark.django_db
def test_a_lead_without_a_campaign_reads_with_a_null_campaign_name(api):
    LeadFactory(email="nocampaign@example.com", campaign=None)
    LeadFactory(email="campaign@example.com", campaign=CampaignFactory(name="Spring webinar"))
    names = {row["email"]: row["campaign_name"] for row in api.get("/api/v1/leads/").json()["results"]}
    assert names == {"nocampaign@example.com": None, "campaign@example.com": "Spring webinar"}


@pytest.fixture
def schema(api):
    response = api.get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


@pytest.mark.django_db
def test_the_schema_documents_each_operations_errors(schema):
    operations = {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    }
    ref = "#/components/schemas/"
    for (method, path), operation in operations.items():
        responses = operation["responses"]
        if path != "/api/v1/auth/token/":
            assert "403" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if "requestBody" in operation:
            assert responses["400"]["content"]["application/json"]["schema"] == {
                "$ref": f"{ref}ValidationError"
            }
            assert "415" in responses, (method, path)
        for code, response in responses.items():
            if code.startswith("4") and code != "400":
                assert response["content"]["application/json"]["schema"] == {"$ref": f"{ref}Error"}
    # State conflicts where they occur.
    assert "409" in operations[("POST", "/api/v1/opportunities/{id}/accept/")]["responses"]
    assert "409" in operations[("POST", "/api/v1/breaches/{id}/acknowledge/")]["responses"]
    # Refusals the fuzz run found undocumented: a rep or team outside the manager's, a lead in
    # no cadence.
    assert "404" in operations[("GET", "/api/v1/queue/")]["responses"]
    assert "400" in operations[("POST", "/api/v1/queue/leads/{lead_id}/stop-cadence/")]["responses"]
    # Read-only lists are paged: a page past the end is a 404.
    assert "404" in operations[("GET", "/api/v1/leads/")]["responses"]


@pytest.mark.django_db
def test_the_schema_says_what_the_api_really_answers(schema):
    properties = schema["components"]["schemas"]
    assert properties["Lead"]["properties"]["campaign_name"]["nullable"] is True
    assert properties["TouchActivity"]["properties"]["outcome"]["type"] == "string"  # "" when none
    assert properties["ConversationRequest"]["properties"]["note"]["maxLength"] == 480


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("refusal", "code", "body"),
    [
        (
            AccountsError("This handoff was already answered."),
            409,
            {"detail": "This handoff was already answered."},
        ),
        (AccountsError("Pick a stage.", field="stage"), 400, {"stage": ["Pick a stage."]}),
        (SdrError("This lead is not in your queue."), 409, {"detail": "This lead is not in your queue."}),
    ],
)
def test_a_domain_refusal_no_view_translated_still_answers_in_the_api_format(
    api, monkeypatch, refusal, code, body
):
    def refuse(self, request, *args, **kwargs):
        raise refusal

    monkeypatch.setattr(StageViewSet, "list", refuse)
    response = api.get("/api/v1/stages/")
    assert (response.status_code, response.json()) == (code, body)
