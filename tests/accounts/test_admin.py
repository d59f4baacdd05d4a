"""The accounts admin: stages are edited in their list; opportunities are read there (with their
events) and only their working details corrected; lists cost the same queries at any size."""

from datetime import UTC, datetime

import pytest

from accounts.models import Opportunity, Stage
from tests.factories import accepted, handed_off

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_every_accounts_admin_page_opens(admin_client, inbound_sdr, ae):
    opportunity = accepted(inbound_sdr, ae, now=NOW)
    pages = [
        "/admin/accounts/account/",
        f"/admin/accounts/account/{opportunity.account_id}/change/",
        "/admin/accounts/contact/",
        f"/admin/accounts/contact/{opportunity.contact_id}/change/",
        "/admin/accounts/stage/",
        f"/admin/accounts/stage/{opportunity.stage_id}/change/",
        "/admin/accounts/opportunity/",
        "/admin/accounts/opportunity/?status__exact=open&origin__exact=inbound",
        f"/admin/accounts/opportunity/{opportunity.pk}/change/",
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page


@pytest.mark.django_db
def test_stage_position_probability_and_activity_are_edited_in_the_list(admin_client):
    stages = list(Stage.objects.order_by("position", "id"))
    data = {
        "form-TOTAL_FORMS": str(len(stages)),
        "form-INITIAL_FORMS": str(len(stages)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for i, stage in enumerate(stages):
        data |= {
            f"form-{i}-id": stage.pk,
            f"form-{i}-position": stage.position,
            f"form-{i}-probability": stage.probability,
        }
        if stage.is_active:
            data[f"form-{i}-is_active"] = "on"
    demo = next(i for i, s in enumerate(stages) if s.name == "Demo")
    data[f"form-{demo}-position"] = "35"
    data[f"form-{demo}-probability"] = "40"

    response = admin_client.post("/admin/accounts/stage/", data)

    assert response.status_code == 302, response.content.decode()[:1000]
    demo_stage = Stage.objects.get(name="Demo")
    assert (demo_stage.position, demo_stage.probability) == (35, 40)


@pytest.mark.django_db
def test_a_probability_over_100_is_refused(admin_client):
    stage = Stage.objects.get(name="Demo")
    response = admin_client.post(
        f"/admin/accounts/stage/{stage.pk}/change/",
        {"name": "Demo", "position": 20, "kind": "open", "probability": 150, "is_active": "on"},
    )
    assert response.status_code == 200 and "less than or equal to 100" in response.content.decode()
    stage.refresh_from_db()
    assert stage.probability == 25


@pytest.mark.django_db
def test_an_opportunity_is_read_with_its_events_and_cannot_be_added_or_deleted(admin_client, inbound_sdr, ae):
    opportunity = accepted(inbound_sdr, ae, now=NOW)

    page = admin_client.get(f"/admin/accounts/opportunity/{opportunity.pk}/change/").content.decode()

    assert "Accepted by" in page and "Handed off by" in page  # the events inline
    assert 'name="status"' not in page and 'name="owner"' not in page  # read-only
    assert 'name="amount"' in page
    assert admin_client.get("/admin/accounts/opportunity/add/").status_code == 403
    assert admin_client.get(f"/admin/accounts/opportunity/{opportunity.pk}/delete/").status_code == 403


@pytest.mark.django_db
def test_the_admin_corrects_the_working_details_only(admin_client, inbound_sdr, ae):
    opportunity = accepted(inbound_sdr, ae, now=NOW)

    response = admin_client.post(
        f"/admin/accounts/opportunity/{opportunity.pk}/change/",
        {
            "amount": "1234.50",
            "close_date": "2027-01-31",
            "next_step": "Sign",
            "status": "won",  # ignored: read-only
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
            "events-MIN_NUM_FORMS": "0",
            "events-MAX_NUM_FORMS": "1000",
        },
    )

    assert response.status_code == 302, response.content.decode()[:1000]
    opportunity.refresh_from_db()
    assert str(opportunity.amount) == "1234.50" and opportunity.next_step == "Sign"
    assert opportunity.status == Opportunity.Status.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize("size", [2, 8])
def test_the_opportunity_list_costs_the_same_queries_whatever_its_size(
    admin_client, django_assert_num_queries, inbound_sdr, ae, size
):
    for n in range(size):
        (accepted if n % 2 else handed_off)(inbound_sdr, ae, now=NOW)
    admin_client.get("/admin/accounts/opportunity/")

    # session, user, the stage filter's choices, the count, the page's rows (with their accounts,
    # stages and people), two for the date hierarchy, two for the site's navigation (whether the
    # single-row scoring settings and health thresholds exist yet: "add" shows only until they do)
    with django_assert_num_queries(9):
        response = admin_client.get("/admin/accounts/opportunity/")
    assert response.content.decode().count('class="field-name"') == size
