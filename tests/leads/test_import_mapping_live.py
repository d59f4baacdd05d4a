"""The mapping screen follows the mapping as it is chosen: a column's field changed posts the
screen (htmx) and the status map and the ignored columns come back for the new mapping, the
outcomes chosen so far kept; without JavaScript the page itself does the same; a submission
uses the status map of the mapping it posts."""

import pytest
from django.urls import reverse

from leads.models import ImportJob
from tests.leads.test_import_pages import ODD_CSV, mapping_post, upload

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
# ODD_CSV's columns: Electronic Mail, Given, Family, Org, Stage Of Lead, Notes: none is
# recognised, so every column starts ignored and the file seems to have no status column.
WITHOUT_STATUS = ["email", "first_name", "last_name", "company", "", ""]
AS_STATUS = ["email", "first_name", "last_name", "company", "external_status", ""]


@pytest.fixture
def screen(client_for, marketing):
    client = client_for(marketing)
    upload(client, ODD_CSV.encode())
    job = ImportJob.objects.get()
    return client, job, reverse("leads:import_mapping", args=[job.pk])


def test_the_page_asks_for_the_live_update_when_a_columns_field_changes(screen):
    client, _, url = screen
    page = client.get(url).content.decode()

    assert f'hx-post="{url}"' in page and 'hx-trigger="change"' in page and '"action": "refresh"' in page
    assert "No status or lifecycle stage column" in page
    assert "<strong>Ignored (6):</strong>" in page


def test_choosing_a_status_column_lists_its_values_and_updates_the_ignored_columns(screen):
    client, job, url = screen
    response = client.post(url, mapping_post(job, AS_STATUS, action="refresh"), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # the parts only, swapped in place
    assert 'id="status-map"' in html
    assert "Status: <strong>Working - Contacted</strong></td><td>2</td>" in html
    assert "Status: <strong>Closed - Not Converted</strong></td><td>1</td>" in html
    assert 'id="ignored-columns" hx-swap-oob="true"' in html
    assert "<strong>Ignored (1):</strong> Notes" in html
    job.refresh_from_db()
    assert job.state == ImportJob.State.MAPPING and job.mapping == []  # nothing submitted


def test_ignoring_the_status_column_again_empties_the_status_map(screen):
    client, job, url = screen
    html = client.post(url, mapping_post(job, WITHOUT_STATUS, action="refresh"), **HTMX).content.decode()

    assert "No status or lifecycle stage column" in html
    assert "<strong>Ignored (2):</strong> Stage Of Lead, Notes" in html


def test_the_outcomes_chosen_so_far_are_kept_when_the_map_is_read_again(screen):
    client, job, url = screen
    first = client.post(url, mapping_post(job, AS_STATUS, action="refresh"), **HTMX)
    rows = [row for row, _ in first.context["statuses"]]
    closed = next(i for i, row in enumerate(rows) if row.value == "Closed - Not Converted")
    data = mapping_post(job, [*AS_STATUS[:5], "title"], action="refresh")  # another column changed
    data |= {f"status_key_{i}": row.key for i, row in enumerate(rows)}
    data |= {f"outcome_{closed}": "review"}

    again = client.post(url, data, **HTMX)

    chosen = {row.value: field.value() for row, field in again.context["statuses"]}
    assert chosen["Closed - Not Converted"] == "review"
    assert chosen["Working - Contacted"] == "mql"  # its default


def test_without_javascript_the_update_button_draws_the_page_again(screen):
    client, job, url = screen
    response = client.post(url, mapping_post(job, AS_STATUS, action="refresh", tags="fair"))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" in html and "Status: <strong>Working - Contacted</strong>" in html
    assert response.context["form"]["tags"].value() == "fair"
    assert [response.context["form"][f"column_{i}"].value() for i in range(6)] == AS_STATUS


def test_a_submission_uses_the_status_map_of_the_mapping_it_posts(screen, django_capture_on_commit_callbacks):
    client, job, url = screen
    rows = [
        row for row, _ in client.post(url, mapping_post(job, AS_STATUS, action="refresh")).context["statuses"]
    ]
    data = mapping_post(job, AS_STATUS)
    data |= {f"status_key_{i}": row.key for i, row in enumerate(rows)}
    data |= {
        f"outcome_{i}": "disqualified" for i, row in enumerate(rows) if row.value == "Closed - Not Converted"
    }

    with django_capture_on_commit_callbacks(execute=False):
        assert client.post(url, data).status_code == 302

    job.refresh_from_db()
    assert job.status_map == {
        "status:Working - Contacted": "mql",
        "status:Closed - Not Converted": "disqualified",
    }


def test_a_bad_field_in_the_update_is_ignored_not_a_500(screen):
    client, job, url = screen
    data = mapping_post(job, ["email", "teleport", "", "", "external_status", ""], action="refresh")

    response = client.post(url, data, **HTMX)

    assert response.status_code == 200
    assert "Status: <strong>Working - Contacted</strong>" in response.content.decode()


def test_only_importers_update_the_map(screen, client_for, inbound_sdr):
    _, job, url = screen
    response = client_for(inbound_sdr).post(url, mapping_post(job, AS_STATUS, action="refresh"), **HTMX)

    assert response.status_code == 403


def test_the_update_costs_the_same_queries_whatever_the_file(
    client_for, marketing, django_assert_max_num_queries
):
    client = client_for(marketing)
    rows = "".join(f"p{i}@x.example,S{i % 50}\r\n" for i in range(2000))
    upload(client, f"Email,Lead Status\r\n{rows}".encode())
    job = ImportJob.objects.get()
    url = reverse("leads:import_mapping", args=[job.pk])
    with django_assert_max_num_queries(8):
        response = client.post(url, mapping_post(job, ["email", "external_status"], action="refresh"), **HTMX)
    assert response.context["statuses"][0][0].count == 40
