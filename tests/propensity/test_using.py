"""Using a learned model: open leads scored after training, a new lead scored at capture, the
lead page's explanation, the roll back, and the queue switch."""

import math

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from leads import learned
from leads.models import Lead, ScoringSettings
from leads.services import capture_lead
from propensity import services
from propensity.models import ModelVersion, Target
from sdr.queue import queue_for
from tests.factories import LeadFactory, routed_lead
from tests.leads import import_jobs

from .conftest import START


def logit(p: float) -> float:
    return math.log(p / (1 - p))


@pytest.mark.django_db
def test_training_scores_every_open_lead_and_only_open_ones(planted_history, manager):
    open_vp = LeadFactory(status=Lead.Status.MQL, seniority="vp", source="referral")
    open_list = LeadFactory(status=Lead.Status.NURTURE, seniority="individual", source="list")
    closed = LeadFactory(status=Lead.Status.DISQUALIFIED, seniority="vp")

    version = services.train(target=Target.ACCEPTED)

    for lead in (open_vp, open_list, closed):
        lead.refresh_from_db()
    assert open_vp.propensity_version == open_list.propensity_version == version.pk
    assert open_vp.propensity > 0.5 > open_list.propensity
    assert closed.propensity is None


@pytest.mark.django_db
def test_the_factors_and_the_intercept_sum_to_the_stored_score(planted_history):
    lead = LeadFactory(
        status=Lead.Status.MQL, seniority="vp", source="list", industry="Retail", country="DE", employees=300
    )
    services.train(target=Target.ACCEPTED)
    lead.refresh_from_db()

    explained = learned.explain(lead)

    assert explained is not None and explained.version_id == lead.propensity_version
    assert explained.log_odds == pytest.approx(logit(lead.propensity), abs=1e-9)
    assert explained.probability == pytest.approx(lead.propensity, abs=1e-12)
    words = {f.words: f.raises for f in explained.factors}
    assert words["VP-level title"] is True
    assert words["came from purchased list"] is False
    assert words["industry Retail"] is False


@pytest.mark.django_db
def test_the_lead_page_shows_the_probability_and_what_raises_and_lowers_it(
    planted_history, client_for, manager
):
    lead = LeadFactory(status=Lead.Status.MQL, seniority="vp", source="list")
    services.train(target=Target.ACCEPTED)
    lead.refresh_from_db()

    body = client_for(manager).get(lead.get_absolute_url()).content.decode()

    assert f"Learned probability of an accepted opportunity: {lead.propensity:.0%}" in body
    assert '<li class="raises">VP-level title: raises</li>' in body
    assert '<li class="lowers">Came from purchased list: lowers</li>' in body


@pytest.mark.django_db
def test_the_lead_page_says_nothing_learned_without_a_model(client_for, manager):
    lead = LeadFactory(status=Lead.Status.MQL)
    body = client_for(manager).get(lead.get_absolute_url()).content.decode()
    assert "Learned probability" not in body


@pytest.mark.django_db
def test_a_new_lead_is_scored_at_capture_without_a_query_more(planted_history, django_assert_max_num_queries):
    version = services.train(target=Target.ACCEPTED)
    capture_lead(email="warm@up.example", details={}, via="api")  # the process reads the model once

    with django_assert_max_num_queries(20) as counted:
        lead = capture_lead(
            email="vp@newco.example", details={"seniority": "vp", "industry": "Software"}, via="api"
        ).lead
    assert lead.propensity_version == version.pk
    assert 0 < lead.propensity < 1
    lead.refresh_from_db()
    assert lead.propensity == pytest.approx(learned.explain(lead).probability)
    assert not any("propensity_modelversion" in q["sql"] for q in counted.captured_queries)


@pytest.mark.django_db
def test_an_imported_lead_is_scored_as_a_captured_one(planted_history, manager):
    version = services.train(target=Target.ACCEPTED)

    job = import_jobs.run(
        manager,
        import_jobs.csv_bytes(
            import_jobs.SF_HEADER, import_jobs.sf_row(email="vp@imported.example", title="VP Sales")
        ),
    )

    lead = Lead.objects.get(email="vp@imported.example")
    assert job.created_count == 1
    assert lead.propensity_version == version.pk
    assert lead.propensity == pytest.approx(learned.explain(lead).probability)


@pytest.mark.django_db
def test_no_model_means_no_probability_at_capture(db):
    lead = capture_lead(email="a@b.example", details={"seniority": "vp"}, via="api").lead
    assert lead.propensity is None and lead.propensity_version is None


@pytest.mark.django_db
def test_rolling_back_activates_the_older_version_and_rescores_the_open_leads(planted_history):
    old = services.train(target=Target.ACCEPTED)
    LeadFactory.create_batch(3, status=Lead.Status.MQL, seniority="vp")
    new = services.train(target=Target.ACCEPTED)
    assert set(Lead.objects.filter(status=Lead.Status.MQL).values_list("propensity_version", flat=True)) == {
        new.pk
    }
    # the newer version learned from the same outcomes: make it differ so the roll back shows
    ModelVersion.objects.filter(pk=new.pk).update(coefficients={**new.coefficients, "intercept": 3.0})
    services.activate_version(version=ModelVersion.objects.get(pk=new.pk))
    high = set(Lead.objects.filter(status=Lead.Status.MQL).values_list("propensity", flat=True))

    done = services.activate_version(version=old)

    assert done.rescored == 3
    assert ModelVersion.objects.active(Target.ACCEPTED) == old
    assert list(ModelVersion.objects.filter(is_active=True)) == [old]
    rows = list(Lead.objects.filter(status=Lead.Status.MQL).values_list("propensity_version", "propensity"))
    assert {v for v, _ in rows} == {old.pk}
    assert max(p for _, p in rows) < min(high)


@pytest.mark.django_db
def test_a_version_with_too_little_history_cannot_be_used(db):
    version = services.train(target=Target.ACCEPTED)
    assert version.status == ModelVersion.Status.TOO_LITTLE
    with pytest.raises(services.PropensityRefused):
        services.activate_version(version=version)


@pytest.mark.django_db
def test_the_queue_switch_is_refused_while_the_model_does_not_beat_the_fit_score(planted_history, settings):
    scoring = ScoringSettings.load()
    scoring.order_queue_by_propensity = True
    with pytest.raises(ValidationError) as refused:
        scoring.full_clean()
    assert "No learned model is in use" in str(refused.value)

    version = services.train(target=Target.ACCEPTED)
    assert version.auc > version.fit_auc + settings.PROPENSITY_MIN_AUC_GAIN
    scoring.full_clean()  # beats the fit score: allowed
    scoring.save()

    settings.PROPENSITY_MIN_AUC_GAIN = 0.5  # a bar this model does not clear
    with pytest.raises(ValidationError) as refused:
        scoring.full_clean()
    assert "does not beat the fit score" in str(refused.value)
    # activating a version that does not beat the fit score turns the switch off
    done = services.activate_version(version=version)
    assert done.queue_switched_off
    assert not ScoringSettings.load().order_queue_by_propensity


@pytest.mark.django_db
def test_the_admin_refuses_the_switch_with_the_reason(admin_client):
    response = admin_client.post(
        reverse("admin:leads_scoringsettings_change", args=[ScoringSettings.load().pk]),
        {"half_life_days": 14, "mql_threshold": 40, "cold_threshold": 10, "order_queue_by_propensity": "on"},
    )
    assert response.status_code == 200
    assert "No learned model is in use" in response.content.decode()
    assert not ScoringSettings.load().order_queue_by_propensity


@pytest.mark.django_db
def test_the_queue_orders_by_the_learned_probability_when_switched_on(inbound_sdr):
    with time_machine.travel(START, tick=False):
        good_fit = routed_lead(inbound_sdr, now=START, fit_grade="A", propensity=0.2)
        likely = routed_lead(inbound_sdr, now=START, fit_grade="D", propensity=0.9)
        unscored = routed_lead(inbound_sdr, now=START, fit_grade="B")

        def order():
            return [item.object_id for item in queue_for(inbound_sdr, START)]

        assert order() == [good_fit.pk, unscored.pk, likely.pk]
        ScoringSettings.load()
        ScoringSettings.objects.filter(pk=1).update(order_queue_by_propensity=True)
        assert order() == [likely.pk, good_fit.pk, unscored.pk]


@pytest.mark.django_db
def test_the_queue_page_says_it_orders_by_the_learned_probability(client_for, inbound_sdr):
    routed_lead(inbound_sdr, propensity=0.4)
    client = client_for(inbound_sdr)
    assert 'id="queue-order"' not in client.get(reverse("sdr:queue")).content.decode()
    ScoringSettings.load()
    ScoringSettings.objects.filter(pk=1).update(order_queue_by_propensity=True)
    assert 'id="queue-order"' in client.get(reverse("sdr:queue")).content.decode()
