import time
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection
from django.urls import reverse

from leads.models import Lead, WebSubmission
from leads.services import process_submissions
from tests.concurrency import run_concurrently
from tests.workers import real_worker


@pytest.fixture(autouse=True)
def drain_requests(monkeypatch):
    """Count the drain tasks the endpoint sends (the worker is simulated by ``drain()``)."""
    sent = []
    monkeypatch.setattr("leads.tasks.request_submission_drain", lambda **kwargs: sent.append(kwargs))
    return sent


def drain():
    """What the worker does moments after a post."""
    return process_submissions()


VALID = {
    "email": " Jane.Doe@Example.com ",
    "first_name": "Jane",
    "last_name": "Doe",
    "company": "Initech",
    "title": "VP of Sales",
    "country": "USA",
    "employees": "1,200",
}


def url(form):
    return reverse("web_form", args=[form.key])


@pytest.mark.django_db
def test_a_marketing_site_posts_a_lead_and_gets_a_thank_you_page(client, web_form):
    response = client.post(url(web_form), VALID)

    assert response.status_code == 200
    assert web_form.thank_you_message in response.content.decode()
    submission = WebSubmission.objects.get()
    assert not Lead.objects.exists()  # captured by the worker, moments later
    assert drain() == 1
    lead = Lead.objects.get()
    assert lead.captured_at == submission.received_at
    assert not WebSubmission.objects.exists()  # the lead holds it now
    assert (lead.email, lead.country, lead.employees, lead.seniority) == (
        "jane.doe@example.com",
        "US",
        1200,
        "vp",
    )
    assert lead.campaign == web_form.campaign
    assert lead.activities.get().source == "web_form"


@pytest.mark.django_db
def test_json_answer_when_asked_with_cors_for_any_site(client, web_form):
    response = client.post(url(web_form), VALID, HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json() == {"ok": True, "message": web_form.thank_you_message}
    assert response["Access-Control-Allow-Origin"] == "*"


@pytest.mark.django_db
def test_id_like_a_call_marks_a_hand_raiser(client, web_form):
    client.post(url(web_form), {**VALID, "wants_call": "on"})
    drain()

    lead = Lead.objects.get()
    assert lead.hand_raiser and lead.status == Lead.Status.MQL


@pytest.mark.django_db
@pytest.mark.parametrize("email", ["", "not-an-email", "x y@z.com", "@example.com"])
def test_bad_email_is_a_400_with_the_field_message_and_nothing_saved(client, web_form, email):
    response = client.post(url(web_form), {**VALID, "email": email}, HTTP_ACCEPT="application/json")

    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_bad_input_re_renders_the_form_with_errors(client, web_form):
    response = client.post(url(web_form), {**VALID, "email": "nope", "company": "x" * 300})

    assert response.status_code == 400
    body = response.content.decode()
    assert "errorlist" in body and "company" in body.lower()
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_honeypot_submission_is_thanked_and_dropped(client, web_form):
    response = client.post(url(web_form), {**VALID, "website": "http://spam.example"})

    assert response.status_code == 200
    drain()
    assert not Lead.objects.exists() and not WebSubmission.objects.exists()


@pytest.mark.django_db
def test_oversized_submission_is_refused(client, web_form, settings):
    settings.WEBFORM_MAX_BYTES = 2000
    response = client.post(url(web_form), {**VALID, "message": "x" * 5000})

    assert response.status_code == 413
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_one_client_is_rate_limited(client, web_form, settings):
    settings.WEBFORM_RATE = "3/m"
    codes = [
        client.post(
            url(web_form), {**VALID, "email": f"p{i}@example.com"}, REMOTE_ADDR="10.0.0.9"
        ).status_code
        for i in range(5)
    ]
    other = client.post(url(web_form), {**VALID, "email": "q@example.com"}, REMOTE_ADDR="10.0.0.10")

    assert codes == [200, 200, 200, 429, 429]
    assert other.status_code == 200
    drain()
    assert Lead.objects.count() == 4


@pytest.mark.django_db
def test_a_refused_client_is_told_when_to_come_back(client, web_form, settings):
    settings.WEBFORM_RATE = "1/m"
    # 10:00:45 UTC: the minute's window ends in 15 s.
    with time_machine.travel(datetime(2026, 12, 6, 10, 0, 45, tzinfo=UTC), tick=False):
        client.post(url(web_form), VALID, REMOTE_ADDR="10.0.0.9")
        refused = client.post(url(web_form), VALID, REMOTE_ADDR="10.0.0.9")

    assert refused.status_code == 429 and refused["Retry-After"] == "15"


@pytest.mark.django_db
def test_unknown_or_inactive_form_key_is_404(client, web_form):
    assert client.post(reverse("web_form", args=["nope"]), VALID).status_code == 404
    web_form.is_active = False
    web_form.save()
    assert client.post(url(web_form), VALID).status_code == 404
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_form_post_needs_no_csrf_token(web_form):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(url(web_form), VALID)
    assert response.status_code == 200


@pytest.mark.django_db
def test_formula_in_a_name_is_neutralized(client, web_form):
    client.post(url(web_form), {**VALID, "first_name": '=HYPERLINK("http://evil.example","x")'})
    drain()

    assert Lead.objects.get().first_name.startswith("'=")


@pytest.mark.django_db
def test_a_burst_of_posts_sends_one_drain_task(client, web_form, drain_requests):
    for i in range(5):
        client.post(url(web_form), {**VALID, "email": f"p{i}@example.com"})

    assert len(drain_requests) == 1 and drain_requests[0]["countdown"] >= 1
    assert WebSubmission.objects.filter(processed_at__isnull=True).count() == 5
    assert drain() == 5
    assert Lead.objects.count() == 5 and not WebSubmission.objects.exists()


@pytest.mark.django_db
def test_a_repeat_visitor_through_the_form_is_one_lead(client, web_form):
    client.post(url(web_form), VALID)
    client.post(url(web_form), {**VALID, "email": "JANE.DOE@example.com"})
    drain()

    lead = Lead.objects.get()
    assert lead.activities.count() == 2


@pytest.mark.django_db
def test_a_submission_that_cannot_be_captured_does_not_block_the_others(web_form):
    bad = WebSubmission.objects.create(
        web_form=web_form, email="bad@example.com", details={"employees": "many"}
    )
    good = WebSubmission.objects.create(web_form=web_form, email="good@example.com", details={})

    assert drain() == 2

    bad.refresh_from_db()
    assert bad.processed_at is not None and bad.failure  # kept, with the reason, for the admin
    assert not WebSubmission.objects.filter(pk=good.pk).exists()
    assert list(Lead.objects.values_list("email", flat=True)) == ["good@example.com"]
    assert drain() == 0  # a failed submission is not retried forever


@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_at_once_capture_each_submission_once(web_form):
    assert connection.vendor == "postgresql"
    WebSubmission.objects.bulk_create(
        WebSubmission(web_form=web_form, email=f"p{i}@example.com", details={}) for i in range(120)
    )
    handled = run_concurrently(*[lambda: process_submissions(batch_size=10)] * 2)

    assert sum(handled) == 120
    assert Lead.objects.count() == 120
    assert all(lead.activities.count() == 1 for lead in Lead.objects.prefetch_related("activities"))


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_captures_a_posted_form_within_seconds(client, web_form, monkeypatch):
    from config.celery import app

    monkeypatch.undo()  # the real drain task this time, through Redis
    assert app.conf.broker_url.startswith("redis://")
    with real_worker():
        assert client.post(url(web_form), {**VALID, "wants_call": "on"}).status_code == 200
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not Lead.objects.exists():
            time.sleep(0.2)

    lead = Lead.objects.get()
    assert lead.hand_raiser and lead.status == Lead.Status.MQL
