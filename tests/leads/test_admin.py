from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from leads.models import FitCriterion, IdealCustomerProfile, ScoringSettings
from leads.scoring import engagement_key
from tests.factories import LeadFactory


def inline_formset(profile, criteria):
    data = {
        "name": profile.name,
        "is_active": "on",
        "criteria-TOTAL_FORMS": str(len(criteria)),
        "criteria-INITIAL_FORMS": str(len(criteria)),
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
    }
    for i, (criterion, values) in enumerate(criteria):
        data |= {
            f"criteria-{i}-id": criterion.pk,
            f"criteria-{i}-profile": profile.pk,
            f"criteria-{i}-field": criterion.field,
            f"criteria-{i}-values": values,
            f"criteria-{i}-minimum": criterion.minimum or "",
            f"criteria-{i}-maximum": criterion.maximum or "",
            f"criteria-{i}-points": criterion.points,
        }
    return data


@pytest.mark.django_db
def test_editing_the_profile_in_the_admin_rescores_every_lead(
    admin_client, profile, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    lead = LeadFactory(industry="Retail", fit_score=0, fit_grade="D")
    criteria = [(c, c.values) for c in profile.criteria.order_by("-points", "id")]
    industry = next(i for i, (c, _) in enumerate(criteria) if c.field == "industry")
    criteria[industry] = (criteria[industry][0], "Retail")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"/admin/leads/idealcustomerprofile/{profile.pk}/change/", inline_formset(profile, criteria)
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert FitCriterion.objects.get(profile=profile, field="industry").values == "Retail"
    lead.refresh_from_db()
    assert (lead.fit_score, lead.fit_grade) == (40, "C")


@pytest.mark.django_db
def test_a_numeric_criterion_without_bounds_is_a_form_error(admin_client):
    profile = IdealCustomerProfile.objects.create(name="P")
    data = {
        "name": "P",
        "is_active": "on",
        "criteria-TOTAL_FORMS": "1",
        "criteria-INITIAL_FORMS": "0",
        "criteria-MIN_NUM_FORMS": "0",
        "criteria-MAX_NUM_FORMS": "1000",
        "criteria-0-field": "employees",
        "criteria-0-points": "10",
    }
    response = admin_client.post(f"/admin/leads/idealcustomerprofile/{profile.pk}/change/", data)
    assert response.status_code == 200 and "needs a minimum, a maximum or both" in response.content.decode()
    assert not profile.criteria.exists()


@pytest.mark.django_db
def test_changing_the_half_life_in_the_admin_keeps_todays_engagement(
    admin_client, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        lead = LeadFactory(engagement_key=engagement_key(50, now, 14.0))
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                "/admin/leads/scoringsettings/1/change/",
                {"half_life_days": "7", "mql_threshold": "40", "cold_threshold": "10"},
            )
        assert response.status_code == 302
        assert ScoringSettings.load().half_life_days == 7
        lead.refresh_from_db()
        assert lead.engagement() == pytest.approx(50)


def campaign_form(**fields):
    return {"name": "Spring webinar", "channel": "webinar", "is_active": "on", "created_at_0": "2026-03-01",
            "created_at_1": "09:00:00"} | fields  # fmt: skip


@pytest.mark.django_db
def test_a_campaign_with_a_cost_needs_its_run_to_spread_the_cost(admin_client):
    """Insight spreads a campaign's cost over the days it runs: a cost without an end date would
    land on one day and make every later period look free, so the admin asks for the run."""
    from leads.models import Campaign

    response = admin_client.post(
        "/admin/leads/campaign/add/", campaign_form(cost="5000.00", starts_on="2026-03-01", ends_on="")
    )
    assert response.status_code == 200
    assert "needs its run" in response.context["adminform"].form.errors["ends_on"][0]
    assert not Campaign.objects.filter(name="Spring webinar").exists()

    response = admin_client.post(
        "/admin/leads/campaign/add/",
        campaign_form(cost="5000.00", starts_on="2026-03-01", ends_on="2026-02-01"),
    )
    assert "ends on or after" in response.context["adminform"].form.errors["ends_on"][0]

    # Free campaigns need no run; a costed one with both days is saved.
    assert admin_client.post("/admin/leads/campaign/add/", campaign_form(cost="0")).status_code == 302
    response = admin_client.post(
        "/admin/leads/campaign/add/",
        campaign_form(name="Paid search", cost="5000.00", starts_on="2026-03-01", ends_on="2026-03-31"),
    )
    assert response.status_code == 302
    assert Campaign.objects.get(name="Paid search").ends_on.isoformat() == "2026-03-31"


def lead_form(lead, **changes) -> dict:
    """The lead admin's change form as it posts ``lead`` unchanged (read now), then ``changes``."""
    from leads.models import Lead

    lead = Lead.objects.get(pk=lead.pk)
    texts = ("email", "first_name", "last_name", "company", "title", "seniority", "industry", "country")
    data = {name: getattr(lead, name) for name in (*texts, "phone", "source", "status", "status_reason")}
    data |= {name: getattr(lead, name) for name in ("rating", "external_id", "external_status")}
    data |= {
        "campaign": lead.campaign_id or "",
        "owner": lead.owner_id or "",
        "team": lead.team_id or "",
        "employees": lead.employees or "",
        "annual_revenue": lead.annual_revenue or "",
        "external_created_at_0": "",
        "external_created_at_1": "",
    }
    if lead.hand_raiser:
        data["hand_raiser"] = "on"
    return data | changes


NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.mark.django_db
def test_a_lead_edited_in_the_admin_is_on_its_timeline_and_its_fit_rescored(
    admin_client, profile, inbound_sdr
):
    """Ops corrects a lead's industry and gives it to Sam: the timeline says who changed what
    from what to what, and the fit is re-scored from the corrected industry."""
    from leads.models import LeadEvent

    with time_machine.travel(NOW - timedelta(hours=1), tick=False):
        lead = LeadFactory(industry="Retail", employees=10, fit_score=0, fit_grade="D")
    with time_machine.travel(NOW, tick=False):
        response = admin_client.post(
            f"/admin/leads/lead/{lead.pk}/change/",
            lead_form(lead, industry="Technology", owner=inbound_sdr.pk),
        )
    assert response.status_code == 302, response.content.decode()[:2000]

    lead.refresh_from_db()
    assert (lead.industry, lead.owner, lead.fit_score, lead.fit_grade) == ("Technology", inbound_sdr, 40, "C")
    assert lead.updated_at == NOW
    event = lead.events.get()
    assert (event.kind, event.actor.username, event.at) == (LeadEvent.Kind.UPDATED, "ops", NOW)
    assert event.message == (
        f"Industry: Retail → Technology; Owner: none → {inbound_sdr}; Fit score: 0 → 40; Fit grade: D → C"
    )


@pytest.mark.django_db
def test_an_edit_by_hand_writes_only_the_fields_edited(marketing):
    """The form's copy of the lead is older than the row: what someone else changed
    meanwhile (a rep's rating) is kept."""
    from leads.models import Lead
    from leads.services import update_lead

    lead = LeadFactory(company="Initech", rating="")
    Lead.objects.filter(pk=lead.pk).update(rating="A")
    lead.company = "Initech GmbH"
    update_lead(lead=lead, fields=["company"], actor=marketing)

    lead.refresh_from_db()
    assert (lead.company, lead.rating) == ("Initech GmbH", "A")
    assert lead.events.get().message == "Company: Initech → Initech GmbH"


@pytest.mark.django_db
def test_a_lead_saved_unchanged_in_the_admin_records_nothing(admin_client):
    lead = LeadFactory()
    response = admin_client.post(f"/admin/leads/lead/{lead.pk}/change/", lead_form(lead))
    assert response.status_code == 302
    assert not lead.events.exists()
