"""A Redis outage delays and never loses: the web form and the capture API store every lead
while Redis (cache, rate limits and broker) is down, and the next sweep captures them."""

import time

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from leads.models import Lead, WebSubmission
from leads.services import process_submissions

pytestmark = pytest.mark.faults

SLOW = 2.5  # seconds: a post during the outage may pay one short connection timeout, no more


@pytest.fixture
def app_on_own_redis(own_redis, settings):
    """Cache, rate limits and the Celery broker all on the test's own Redis."""
    from config.celery import app
    from kit import ratelimit
    from leads import tasks

    settings.REDIS_URL = own_redis.url(0)
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": own_redis.url(0)},
    }
    assert settings.CACHES["default"]["BACKEND"] == "kit.cache.FailOpenRedisCache"
    saved = app.conf.broker_url
    app.conf.broker_url = own_redis.url(1)
    app._pool = None
    app.amqp._producer_pool = None
    for outage in (ratelimit._outage, tasks._broker_outage):
        outage._until = 0.0
    ratelimit._local_counts.clear()
    yield own_redis
    app.conf.broker_url = saved
    app._pool = None
    app.amqp._producer_pool = None
    for outage in (ratelimit._outage, tasks._broker_outage):
        outage._until = 0.0


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


def post_form(client, web_form, i):
    return client.post(
        reverse("web_form", args=[web_form.key]),
        {"email": f"visitor{i}@example.com", "company": "Initech"},
        HTTP_ACCEPT="application/json",
    )


@pytest.mark.django_db(transaction=True)
def test_every_web_form_post_is_stored_while_redis_is_down_and_captured_after(
    client, web_form, app_on_own_redis
):
    from leads.services import webform

    for i in range(3):
        assert post_form(client, web_form, i).status_code == 200

    app_on_own_redis.kill()
    slowest = 0.0
    for i in range(3, 25):
        webform._last_drain_request[0] = float("-inf")  # every post tries to send its drain
        response, took = timed(lambda i=i: post_form(client, web_form, i))
        assert response.status_code == 200, response.content
        slowest = max(slowest, took)
    assert slowest < SLOW
    assert WebSubmission.objects.count() == 25  # stored, waiting for a worker

    app_on_own_redis.start()  # Redis is back; beat's drain sweep runs
    assert process_submissions() == 25
    assert Lead.objects.count() == 25
    assert not WebSubmission.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_rate_limit_still_holds_per_process_while_redis_is_down(
    client, web_form, app_on_own_redis, settings
):
    settings.WEBFORM_RATE = "5/m"
    app_on_own_redis.kill()
    codes = [post_form(client, web_form, i).status_code for i in range(8)]
    assert codes == [200] * 5 + [429] * 3
    assert WebSubmission.objects.count() == 5


@pytest.mark.django_db(transaction=True)
def test_the_capture_api_captures_while_redis_is_down(app_on_own_redis, marketing):
    api = APIClient()
    api.force_authenticate(marketing)
    assert api.post("/api/v1/leads/", {"email": "before@example.com"}, format="json").status_code == 201

    app_on_own_redis.kill()
    for i in range(5):
        response, took = timed(
            lambda i=i: api.post("/api/v1/leads/", {"email": f"during{i}@example.com"}, format="json")
        )
        assert response.status_code == 201, response.content
        assert took < SLOW
    assert api.post("/api/v1/leads/", {"email": "during0@example.com"}, format="json").status_code == 200

    app_on_own_redis.start()
    assert api.post("/api/v1/leads/", {"email": "after@example.com"}, format="json").status_code == 201
    assert Lead.objects.count() == 7


@pytest.mark.django_db(transaction=True)
def test_a_scoring_change_in_the_admin_while_redis_is_down_says_what_waits(admin_client, app_on_own_redis):
    """The admin saves; the task that applies the change cannot be sent: the page says so
    (it answered 500 after saving), and the half-life stays what every lead is keyed on."""
    from leads.models import ScoringSettings

    settings_pk = ScoringSettings.load().pk
    app_on_own_redis.kill()
    response = admin_client.post(
        f"/admin/leads/scoringsettings/{settings_pk}/change/",
        {"half_life_days": "7", "mql_threshold": "40", "cold_threshold": "10"},
        follow=True,
    )
    assert response.status_code == 200
    assert "The half-life stays 14 days: the task queue is unreachable" in response.content.decode()
    assert ScoringSettings.load().half_life_days == 14
    assert ScoringSettings.load().mql_threshold == 40
