"""The insight admin: one row of health thresholds, whose edits change the diagnoses at once;
the lead facts and weekly summaries read-only; the summary switch editable."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from insight.health import diagnose
from insight.models import HealthSettings, LeadFact, SummaryPreference, WeeklySummary
from insight.scope import Period, Scope
from tests.factories import LeadFactory

NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
MARCH = Period(date(2025, 3, 1), date(2025, 3, 31), ZoneInfo("Europe/Berlin"))
IN_MARCH = datetime(2025, 3, 5, 10, 0, tzinfo=UTC)
CHANGE = "/admin/insight/healthsettings/1/change/"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]


def fact(**fields) -> LeadFact:
    fields.setdefault("captured_at", IN_MARCH - timedelta(days=30))
    fields.setdefault("first_seen_at", fields["captured_at"])
    return LeadFact.objects.create(lead=LeadFactory(captured_at=fields["captured_at"]), **fields)


def form(**changes) -> dict:
    values = {
        "early_loss_days": 14,
        "early_loss_percent": 20,
        "win_rate_percent": 50,
        "rejection_percent": 25,
        "starved_percent": 50,
        "slow_percent": 10,
        "dropped_days": 7,
        "renewal_days": 30,
    }
    values.update(changes)
    return values


def rejections(manager):
    scope = Scope.for_user(manager, MARCH)
    (found,) = [d for d in diagnose(scope, now=NOW) if d.key == "rejections"]
    return found


def test_thresholds_edited_in_the_admin_change_the_diagnosis(admin_client, manager):
    for i in range(5):
        fact(
            handed_off_at=IN_MARCH,
            **({"rejected_at": IN_MARCH, "reject_reason": "No budget"} if i < 1 else {}),
        )
    assert not rejections(manager).triggered  # 1 of 5 = 20%, under 25%

    response = admin_client.post(CHANGE, form(rejection_percent=19))

    assert response.status_code == 302
    found = rejections(manager)
    assert found.triggered and found.threshold == 19

    admin_client.post(CHANGE, form(rejection_percent=20))
    assert not rejections(manager).triggered  # at the threshold


def test_the_early_loss_window_from_the_admin_applies_to_facts_already_there(admin_client, manager):
    for lost_after in (None, None, timedelta(days=10)):
        lost = {"lost_at": IN_MARCH + lost_after} if lost_after else {}
        fact(accepted_at=IN_MARCH, **lost)

    def early():
        (found,) = [d for d in diagnose(Scope.for_user(manager, MARCH), now=NOW) if d.key == "early_losses"]
        return found

    assert early().triggered  # 1 of 3 within 14 days
    admin_client.post(CHANGE, form(early_loss_days=9))
    assert not early().triggered
    assert early().detail == "0 of 3 accepted opportunities (0%) were lost within 9 days of acceptance."


def test_a_threshold_out_of_range_is_refused(admin_client):
    response = admin_client.post(CHANGE, form(slow_percent=101))

    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 100." in response.content.decode()
    assert HealthSettings.load().slow_percent == 10


def test_the_thresholds_are_one_row_never_added_or_deleted(admin_client):
    response = admin_client.get("/admin/insight/healthsettings/")
    assert response.status_code == 302 and response["Location"] == CHANGE

    assert admin_client.get("/admin/insight/healthsettings/add/").status_code == 403
    assert admin_client.get("/admin/insight/healthsettings/1/delete/").status_code == 403
    assert HealthSettings.objects.count() == 1


def test_a_user_without_admin_rights_cannot_edit_thresholds(client, manager):
    client.force_login(manager)
    response = client.post(CHANGE, form(rejection_percent=1))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert HealthSettings.load().rejection_percent == 25


def test_lead_facts_are_listed_read_only_and_found_by_lead_id(admin_client):
    wanted = fact(origin="outbound", fit_grade="A")
    other = fact(origin="inbound", fit_grade="B")

    found = admin_client.get("/admin/insight/leadfact/", {"q": str(wanted.lead_id)})
    assert found.status_code == 200
    assert list(found.context["cl"].result_list) == [wanted]

    nothing = admin_client.get("/admin/insight/leadfact/", {"q": "not an id"})
    assert nothing.status_code == 200 and list(nothing.context["cl"].result_list) == []

    inbound = admin_client.get("/admin/insight/leadfact/", {"origin__exact": "inbound"})
    assert list(inbound.context["cl"].result_list) == [other]
    graded = admin_client.get("/admin/insight/leadfact/", {"fit_grade": "A"})
    assert list(graded.context["cl"].result_list) == [wanted]

    assert admin_client.get("/admin/insight/leadfact/add/").status_code == 403
    page = admin_client.get(f"/admin/insight/leadfact/{wanted.pk}/change/")
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    admin_client.post(f"/admin/insight/leadfact/{wanted.pk}/change/", {"status": "won"})
    wanted.refresh_from_db()
    assert wanted.status == ""


def test_weekly_summaries_are_read_only_and_the_switch_is_editable(admin_client, inbound_sdr):
    summary = WeeklySummary.objects.create(user=inbound_sdr, week=date(2025, 3, 10), subject="Your week")
    listed = admin_client.get("/admin/insight/weeklysummary/")
    assert listed.status_code == 200 and "Your week" in listed.content.decode()
    assert admin_client.get("/admin/insight/weeklysummary/add/").status_code == 403
    assert admin_client.get(f"/admin/insight/weeklysummary/{summary.pk}/delete/").status_code == 403

    response = admin_client.post(
        "/admin/insight/summarypreference/add/", {"user": inbound_sdr.pk, "weekly_summary": ""}
    )
    assert response.status_code == 302
    assert SummaryPreference.objects.get(user=inbound_sdr).weekly_summary is False
