"""Where a lead came from: first seen, the source system and id, what the source said, tags
and the imports that touched it, on the lead page and in the API; the lead list's "from
import N" and tag filters, on the page, in saved views and in the API."""

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kit.display import when_text
from leads.models import ImportJob, Lead, LeadImport, SavedView, Tag
from team.zones import user_zone
from tests.factories import LeadFactory

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CREATED_IN_SALESFORCE = datetime(2025, 3, 14, 15, 30, tzinfo=UTC)
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

LIST = reverse("leads:list")


def import_job(by, name="salesforce_leads_export.csv", *, at=NOW, **fields) -> ImportJob:
    fields.setdefault("state", ImportJob.State.DONE)
    return ImportJob.objects.create(
        uploaded_by=by, file=f"imports/{name}", original_name=name, created_at=at, **fields
    )


def imported_lead(**fields) -> Lead:
    """A lead an import created from a Salesforce row made in March 2025."""
    fields = {
        "first_seen_at": CREATED_IN_SALESFORCE,
        "external_created_at": CREATED_IN_SALESFORCE,
        "external_system": "salesforce",
        "external_id": "00QE7567734D7C1",
        **fields,
    }
    return LeadFactory(**fields)


def link(job, lead, action=LeadImport.Action.CREATED, before=None, line=2) -> LeadImport:
    return LeadImport.objects.create(job=job, lead=lead, action=action, before=before, line=line)


# --- the lead page ------------------------------------------------------------------------------


def test_an_imported_lead_shows_where_it_came_from(client_for, marketing, manager):
    lead = imported_lead(
        external_system="hubspot",
        external_id="669826844",
        external_status="IN_PROGRESS",
        # as the import writes them: the status it read is among the attributes too
        source_attributes={"stage": "salesqualifiedlead", "score": "65", "status": "IN_PROGRESS"},
    )
    lead.tags.add(Tag.objects.create(name="salesforce-2026"), Tag.objects.create(name="Q1 webinar"))
    first = import_job(marketing, "hubspot_contacts_export.csv", at=NOW - timedelta(days=20))
    again = import_job(marketing, "hubspot_again.csv", at=NOW - timedelta(days=2))
    link(first, lead)
    link(again, lead, LeadImport.Action.UPDATED, before={"company": "", "phone": ""})

    body = client_for(manager).get(lead.get_absolute_url()).content.decode()

    # First seen (with its zone, in the viewer's) is when HubSpot created the contact;
    # captured is when the import brought it in.
    zone = user_zone(manager)
    assert (
        f'First seen</dt><dd id="lead-first-seen" title="2025-03-14T15:30:00+00:00">{when_text(CREATED_IN_SALESFORCE, zone)}'
        in body
    )
    assert when_text(NOW, zone) in body
    assert "Source record</dt><dd>HubSpot 669826844</dd>" in body
    assert "Status: in progress · Lifecycle stage: sales qualified lead · Score: 65" in body
    assert body.count("Status: in progress") == 1  # said once
    assert f'href="{LIST}?tag=Q1%20webinar">Q1 webinar</a>' in body and ">salesforce-2026</a>" in body
    # Newest import first, each linking to its job, an update naming the fields it filled.
    newer = body.index(f'href="{reverse("leads:import_detail", args=[again.pk])}"')
    older = body.index(f'href="{reverse("leads:import_detail", args=[first.pk])}"')
    assert newer < older
    assert "Updated: company, phone" in body and ">Created</td>" in body


def test_a_lead_captured_in_refinery_shows_no_first_seen_nor_origin_card(client_for, manager):
    lead = LeadFactory(captured_at=NOW - timedelta(days=3))

    body = client_for(manager).get(lead.get_absolute_url()).content.decode()

    assert "First seen" not in body and "Where this lead came from" not in body
    assert "Captured</dt>" in body


def test_an_undone_import_says_so(client_for, marketing, manager):
    lead = imported_lead()
    job = import_job(marketing, state=ImportJob.State.UNDONE)
    link(job, lead, LeadImport.Action.UPDATED, before={"title": "Analyst"})

    body = client_for(manager).get(lead.get_absolute_url()).content.decode()

    assert '<span class="tag">undone</span>' in body and "Updated: title" in body


def test_an_sdr_sees_the_lead_s_imports_without_links_to_the_import_pages(
    client_for, marketing, inbound_sdr, ae
):
    lead = imported_lead(owner=inbound_sdr)
    job = import_job(marketing)
    link(job, lead)
    import_page = reverse("leads:import_detail", args=[job.pk])

    body = client_for(inbound_sdr).get(lead.get_absolute_url()).content.decode()
    assert f"#{job.pk} salesforce_leads_export.csv" in body and import_page not in body
    assert client_for(inbound_sdr).get(import_page).status_code == 403
    # AEs never see raw leads, provenance included.
    assert client_for(ae).get(lead.get_absolute_url()).status_code == 403


@pytest.mark.parametrize(("imports", "tags"), [(1, 1), (15, 6)])
def test_the_lead_page_reads_its_origin_in_a_fixed_number_of_queries(
    client_for, marketing, manager, profile, django_assert_num_queries, imports, tags
):
    lead = imported_lead()
    lead.tags.add(*[Tag.objects.create(name=f"tag-{i}") for i in range(tags)])
    for i in range(imports):
        link(import_job(marketing, f"file-{i}.csv", at=NOW - timedelta(days=imports - i)), lead)
    client = client_for(manager)
    ContentType.objects.get_for_model(Lead)  # cached per process after its first use

    # session, user, lead, settings, profile, criteria, events, activities, work items, its
    # tags, its newest imports with their jobs, and whether the manager may email the lead
    with django_assert_num_queries(12):
        response = client.get(lead.get_absolute_url())

    body = response.content.decode()
    assert body.count("salesforce_leads_export") == 0
    shown = [i for i in range(imports) if f"file-{i}.csv" in body]
    assert shown == list(range(max(0, imports - 10), imports))  # the newest 10
    assert ("Only the newest 10 imports are shown" in body) == (imports > 10)
    assert body.count('class="tag" href=') == tags


# --- the lead list: from import N, tag --------------------------------------------------------


def test_the_list_shows_the_leads_an_import_touched(client_for, marketing, manager):
    job, other = import_job(marketing), import_job(marketing, "other.csv")
    created, updated = imported_lead(company="Created Co"), LeadFactory(company="Updated Co")
    link(job, created)
    link(job, updated, LeadImport.Action.UPDATED, before={"phone": ""})
    link(other, LeadFactory(company="Other Import Co"))
    LeadFactory(company="Never Imported Co")

    body = client_for(manager).get(LIST, {"import": job.pk}).content.decode()

    assert "Created Co" in body and "Updated Co" in body and "2 leads" in body
    assert "Other Import Co" not in body and "Never Imported Co" not in body
    assert f'name="import" value="{job.pk}"' in body  # the form keeps the filter


@pytest.mark.parametrize("asked", ["999999", "abc", "-1", "99999999999999999999999"])
def test_an_import_that_does_not_exist_is_a_form_error_not_every_lead(client_for, manager, asked):
    LeadFactory(company="Somebody Co")

    response = client_for(manager).get(LIST, {"import": asked})

    body = response.content.decode()
    assert response.status_code == 200
    assert "There is no import with this number." in body and "Somebody Co" not in body


def test_an_sdr_filtering_by_import_sees_only_their_own_leads(client_for, marketing, inbound_sdr):
    job = import_job(marketing)
    link(job, LeadFactory(company="Mine Co", owner=inbound_sdr))
    link(job, LeadFactory(company="Not Mine Co"))

    body = client_for(inbound_sdr).get(LIST, {"import": job.pk}).content.decode()

    assert "Mine Co" in body and "Not Mine Co" not in body and "1 lead" in body


def test_the_tag_filter_ignores_case_and_an_unknown_tag_matches_nobody(client_for, manager):
    tagged = LeadFactory(company="Tagged Co")
    tagged.tags.add(Tag.objects.create(name="salesforce-2026"))
    LeadFactory(company="Untagged Co")
    client = client_for(manager)

    body = client.get(LIST, {"tag": "SalesForce-2026"}).content.decode()
    assert "Tagged Co" in body and "Untagged Co" not in body
    body = client.get(LIST, {"tag": "nobody-has-this"}).content.decode()
    assert "Tagged Co" not in body and "Untagged Co" not in body


def test_a_saved_view_keeps_the_import_and_tag_filters(client_for, marketing, manager):
    job = import_job(marketing)
    both = LeadFactory(company="Both Co")
    both.tags.add(Tag.objects.create(name="vip"))
    link(job, both)
    link(job, LeadFactory(company="Import Only Co"))
    client = client_for(manager)

    client.post(
        reverse("leads:view_create"),
        {"name": "VIPs from the import", "query": f"import={job.pk}&tag=vip", "scope": "personal"},
    )
    view = SavedView.objects.get()
    assert view.query == f"import={job.pk}&tag=vip"

    body = client.get(LIST, {"view": view.pk}).content.decode()
    assert "Both Co" in body and "Import Only Co" not in body


# --- the API -----------------------------------------------------------------------------------


def test_the_api_gives_a_lead_s_origin(api_for, manager):
    lead = imported_lead(source_attributes={"stage": "customer", "score": "42"})
    lead.tags.add(Tag.objects.create(name="salesforce-2026"))

    row = api_for(manager).get("/api/v1/leads/").json()["results"][0]
    detail = api_for(manager).get(f"/api/v1/leads/{lead.pk}/").json()

    for answer in (row, detail):
        assert answer["first_seen_at"] == "2025-03-14T15:30:00Z"
        assert answer["captured_at"] == "2026-11-24T09:00:00Z"
        assert answer["external_system"] == "salesforce"
        assert answer["source_attributes"] == {"stage": "customer", "score": "42"}
        assert answer["tags"] == ["salesforce-2026"]


def test_the_api_filters_by_import_and_tag(api_for, marketing, manager):
    job = import_job(marketing)
    mine = LeadFactory()
    mine.tags.add(Tag.objects.create(name="vip"))
    link(job, mine)
    LeadFactory()
    client = api_for(manager)

    assert [r["id"] for r in client.get("/api/v1/leads/", {"import": job.pk}).json()["results"]] == [mine.pk]
    assert [r["id"] for r in client.get("/api/v1/leads/", {"tag": "VIP"}).json()["results"]] == [mine.pk]
    for asked in ("999999", "abc", "99999999999999999999999"):
        response = client.get("/api/v1/leads/", {"import": asked})
        assert response.status_code == 400 and "import" in response.json()


@pytest.mark.parametrize("size", [1, 30])
def test_the_api_list_reads_tags_in_one_query_whatever_the_size(
    api_for, manager, django_assert_num_queries, size
):
    tags = [Tag.objects.create(name=f"t{i}") for i in range(3)]
    for lead in LeadFactory.create_batch(size, owner=None):
        lead.tags.add(*tags)
    client = api_for(manager)

    with django_assert_num_queries(4):  # count, page, the page's tags, scoring settings
        response = client.get("/api/v1/leads/")

    assert all(row["tags"] == ["t0", "t1", "t2"] for row in response.json()["results"])


def test_the_schema_documents_the_new_filters_and_fields(client, marketing):
    client.force_login(marketing)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    parameters = {p["name"] for p in schema["paths"]["/api/v1/leads/"]["get"]["parameters"]}
    assert {"import", "tag"} <= parameters
    lead = schema["components"]["schemas"]["Lead"]["properties"]
    assert {"first_seen_at", "external_system", "source_attributes", "tags"} <= set(lead)
    assert lead["tags"]["type"] == "array"


def test_the_filtered_list_issues_the_same_queries_at_two_sizes(client_for, marketing, manager):
    job = import_job(marketing)
    tag = Tag.objects.create(name="vip")
    client = client_for(manager)

    def queries_for(size: int) -> int:
        for lead in LeadFactory.create_batch(size, owner=None):
            lead.tags.add(tag)
            link(job, lead)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST, {"import": job.pk, "tag": "vip"})
        assert response.status_code == 200
        return len(captured.captured_queries)

    assert queries_for(1) == queries_for(30)


def test_roles_that_never_see_leads_get_403_with_the_new_filters(client_for, api_for, marketing, ae, am):
    job = import_job(marketing)
    for user in (ae, am):
        assert client_for(user).get(LIST, {"import": job.pk, "tag": "x"}).status_code == 403
        assert api_for(user).get("/api/v1/leads/", {"import": job.pk}).status_code == 403
