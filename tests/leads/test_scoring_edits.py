"""What an edit of the scoring configuration by hand sets off, through the services the admin
calls: nothing before the commit (nor after a rollback), then every process re-reads the
configuration and a worker re-scores or re-keys the leads; a broker outage is reported to the
caller, not raised."""

import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import transaction
from kombu.exceptions import OperationalError

from leads import tasks
from leads.models import ActivityKind, ActivitySource, ActivityWeight, Lead, ScoringSettings, WebForm
from leads.scoring import engagement_key
from leads.services import (
    HalfLifeChange,
    ScoringContext,
    activity_weights_changed,
    capture_lead,
    profile_changed,
    save_scoring_settings,
    web_form_changed,
)
from tests.factories import LeadFactory
from tests.workers import real_worker

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def broker_down(*args, **kwargs):
    raise OperationalError("connection refused")


def retail_fits(profile) -> None:
    """Edit the profile as the admin's form would: retail becomes a fitting industry."""
    profile.criteria.filter(field="industry").update(values="Retail")


@pytest.mark.django_db
def test_a_changed_profile_rescores_every_lead_once_committed(
    profile, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    lead = LeadFactory(industry="Retail", fit_score=0, fit_grade="D")
    ScoringContext.load()  # this process's copy, from before the edit
    heard = []
    with django_capture_on_commit_callbacks(execute=True):
        retail_fits(profile)
        profile_changed(then=heard.append)
        assert heard == []  # nothing before the commit
        lead.refresh_from_db()
        assert lead.fit_score == 0

    assert heard == [True]
    lead.refresh_from_db()
    assert (lead.fit_score, lead.fit_grade) == (40, "C")
    assert "Retail" in [c.values for c in ScoringContext.load().criteria]


@pytest.mark.django_db
def test_a_profile_change_with_the_broker_down_is_reported_and_captures_still_use_it(
    profile, monkeypatch, django_capture_on_commit_callbacks
):
    lead = LeadFactory(industry="Retail", fit_score=0, fit_grade="D")
    ScoringContext.load()
    monkeypatch.setattr(tasks.recompute_fit_scores, "delay", broker_down)
    heard = []
    with django_capture_on_commit_callbacks(execute=True):
        retail_fits(profile)
        profile_changed(then=heard.append)

    assert heard == [False]
    lead.refresh_from_db()
    assert lead.fit_score == 0  # waits for the profile to be saved again
    new = capture_lead(email="new@retail.example", details={"industry": "Retail"}, via=ActivitySource.API)
    assert new.lead.fit_score == 40  # the configuration was re-read all the same


@pytest.mark.django_db
def test_a_profile_change_rolled_back_sets_off_nothing(profile, django_capture_on_commit_callbacks):
    heard = []

    def failed_save():
        with transaction.atomic():
            profile_changed(then=heard.append)
            raise RuntimeError("the admin's save failed")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        failed_save()

    assert callbacks == [] and heard == []


@pytest.mark.django_db
def test_a_new_half_life_is_applied_by_the_worker_with_the_rekey(
    settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    with time_machine.travel(NOW, tick=False):
        lead = LeadFactory(engagement_key=engagement_key(50, NOW, 14.0))
        edited = ScoringSettings.load()
        edited.half_life_days, edited.mql_threshold = 7.0, 45.0
        heard = []
        with django_capture_on_commit_callbacks(execute=True):
            save_scoring_settings(
                settings=edited, changed=["half_life_days", "mql_threshold"], then=heard.append
            )
            row = ScoringSettings.objects.get()
            assert (row.half_life_days, row.mql_threshold) == (14.0, 45.0)  # the rest is saved at once

        assert heard == [HalfLifeChange(old=14.0, new=7.0, queued=True)]
        assert ScoringSettings.objects.get().half_life_days == 7.0
        lead.refresh_from_db()
        assert lead.engagement() == pytest.approx(50)


@pytest.mark.django_db
def test_a_new_half_life_with_the_broker_down_keeps_the_old_one(
    monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(tasks.change_half_life, "delay", broker_down)
    edited = ScoringSettings.load()
    edited.half_life_days, edited.mql_threshold = 7.0, 45.0
    heard = []
    with django_capture_on_commit_callbacks(execute=True):
        save_scoring_settings(settings=edited, changed=["half_life_days", "mql_threshold"], then=heard.append)

    assert heard == [HalfLifeChange(old=14.0, new=7.0, queued=False)]
    row = ScoringSettings.objects.get()
    assert (row.half_life_days, row.mql_threshold) == (14.0, 45.0)


@pytest.mark.django_db
def test_settings_without_a_new_half_life_are_saved_and_reread_everywhere(django_capture_on_commit_callbacks):
    edited = ScoringSettings.load()
    assert ScoringContext.load().settings.mql_threshold != 45.0
    edited.mql_threshold = 45.0
    heard = []
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        save_scoring_settings(settings=edited, changed=["mql_threshold"], then=heard.append)

    assert len(callbacks) == 1 and heard == []  # no task: only the re-read
    assert ScoringContext.load().settings.mql_threshold == 45.0


@pytest.mark.django_db
def test_the_first_save_of_the_settings_writes_them_as_given(django_capture_on_commit_callbacks):
    ScoringSettings.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        save_scoring_settings(settings=ScoringSettings(pk=1, half_life_days=7.0), changed=())

    assert ScoringSettings.objects.get().half_life_days == 7.0


@pytest.mark.django_db
def test_a_changed_activity_weight_is_reread_once_committed(django_capture_on_commit_callbacks):
    before = ScoringContext.load().points_for(ActivityKind.WEBINAR)
    ActivityWeight.objects.update_or_create(kind=ActivityKind.WEBINAR, defaults={"points": before + 7})
    assert ScoringContext.load().points_for(ActivityKind.WEBINAR) == before  # the process's copy
    with django_capture_on_commit_callbacks(execute=True):
        activity_weights_changed()

    assert ScoringContext.load().points_for(ActivityKind.WEBINAR) == before + 7


@pytest.mark.django_db
def test_a_web_form_switched_off_stops_taking_posts_once_committed(
    web_form, django_capture_on_commit_callbacks
):
    assert WebForm.active(web_form.key) == web_form
    web_form.is_active = False
    web_form.save()
    assert WebForm.active(web_form.key) == web_form  # this process's copy, until the commit
    with django_capture_on_commit_callbacks(execute=True):
        web_form_changed(web_form=web_form)

    assert WebForm.active(web_form.key) is None


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_rescores_after_a_profile_change_through_redis(profile):
    from config.celery import app

    assert app.conf.broker_url.startswith("redis://"), "this test needs REDIS_URL pointing at Redis"
    lead = LeadFactory(industry="Retail", fit_score=0, fit_grade="D")
    heard = []
    with real_worker():
        with transaction.atomic():
            retail_fits(profile)
            profile_changed(then=heard.append)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and Lead.objects.get(pk=lead.pk).fit_score == 0:
            time.sleep(0.2)

    assert heard == [True]
    lead.refresh_from_db()
    assert (lead.fit_score, lead.fit_grade) == (40, "C")
