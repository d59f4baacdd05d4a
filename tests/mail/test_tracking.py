"""Tracking and consent, on emails really sent through the loopback SMTP server and read back
from the prospect's IMAP INBOX: the open pixel and the tracked click are one engagement
activity each however often they load, a click lands on the original URL and a tampered link
lands nowhere, tracking switched off leaves no pixel and plain links; every cadence email
carries the one-click unsubscribe (RFC 8058 headers and a footer link), a POST to it (no
login, no CSRF token) suppresses the address and ends the cadence, a GET changes nothing, and
afterwards every path refuses the address."""

import base64
import json
import re
from datetime import timedelta
from html import unescape
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.test import Client

from leads.models import Activity, ActivityKind, Lead, LeadEvent
from mail import services, tracking
from mail.models import Message, Suppression
from sdr import services as sdr
from sdr.models import Cadence, Enrollment
from sdr.services import cadences
from tests.factories import open_steps
from tests.mail.cadence_kit import INTRO, THU, WED, berlin, email_cadence, enrolled, own_mailbox
from tests.mailservers import (
    mail_servers,  # noqa: F401
    wait_for_messages,
)
from work.models import WorkItem

NOW = berlin(WED, 11)
SITE = "https://refinery.example"
STORY = "https://refinery.example/story"
pytestmark = [pytest.mark.usefixtures("frozen", "mail_servers"), pytest.mark.django_db]


@pytest.fixture(autouse=True)
def site(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def sent(inbound_sdr):
    """Step 1 of a cadence, sent to a lead of Sam's: (the lead, its Message, the email received)."""
    own_mailbox(inbound_sdr)
    cadence = email_cadence(steps=((0, "email", True, *INTRO), (2, "email", False, "Following up", "Hello?")))
    lead = enrolled(inbound_sdr, cadence, NOW)
    services.send_due_steps()
    assert services.send_due().sent == 1
    [received] = wait_for_messages(lead.email, 1)
    return lead, Message.objects.get(lead=lead), received


def links(received, marker: str) -> list[str]:
    """The URLs of the email's HTML part (links and the pixel) that contain ``marker``."""
    html = received.get_body(("html",)).get_content()
    return [unescape(url) for url in re.findall(r'(?:href|src)="([^"]+)"', html) if marker in url]


def path_of(url: str) -> str:
    assert url.startswith(SITE + "/")
    return urlsplit(url).path


def activities(lead, kind) -> int:
    return Activity.objects.filter(lead=lead, kind=kind).count()


# --- opens and clicks ------------------------------------------------------------------------------


def test_the_open_pixel_logs_one_open_however_often_it_loads(sent, client, frozen):
    lead, message, received = sent
    [pixel] = links(received, "/m/o/")
    frozen.shift(600)
    for _ in range(2):
        response = client.get(path_of(pixel))
        assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert activities(lead, ActivityKind.EMAIL_OPEN) == 1
    message.refresh_from_db()
    assert message.opened_at == NOW + timedelta(seconds=600)


def test_a_click_lands_on_the_original_url_and_logs_one_click(sent, client):
    lead, message, received = sent
    [link] = links(received, "/m/c/")
    assert STORY not in link  # the link goes through the redirect, the URL inside its signature
    for _ in range(2):
        response = client.get(path_of(link))
        assert response.status_code == 302 and response["Location"] == STORY
    assert activities(lead, ActivityKind.EMAIL_CLICK) == 1
    [click] = Activity.objects.filter(lead=lead, kind=ActivityKind.EMAIL_CLICK)
    assert click.note == f"{message.subject}: {STORY}"


def _tampered(token: str, url: str) -> str:
    """``token`` with the URL inside it replaced and the original signature kept."""
    _, timestamp, signature = token.rsplit(":", 2)
    value = signing.loads(token, salt=tracking.CLICK_SALT)
    value["u"] = url
    forged = base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{forged}:{timestamp}:{signature}"


def test_a_tampered_click_link_is_a_404_and_redirects_nowhere(sent, client, settings):
    lead, message, received = sent
    [link] = links(received, "/m/c/")
    token = path_of(link).split("/")[3]
    evil = "https://evil.example/login"
    other_key = signing.dumps({"m": message.pk, "u": evil}, key="not-our-secret", salt=tracking.CLICK_SALT)
    for bad in (
        _tampered(token, evil),  # the URL changed inside the link
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # the signature changed
        tracking.open_token(message.pk),  # a token for another purpose
        other_key,  # signed with another secret
    ):
        response = client.get(f"/m/c/{bad}/")
        assert response.status_code == 404 and "Location" not in response
    assert client.get(f"/m/c/{token}/?url={evil}")["Location"] == STORY  # no URL is taken from the query
    assert activities(lead, ActivityKind.EMAIL_CLICK) == 1


def test_with_tracking_off_the_email_has_no_pixel_and_plain_links(inbound_sdr, settings, client):
    settings.MAIL_TRACKING = False
    own_mailbox(inbound_sdr)
    lead = enrolled(inbound_sdr, email_cadence(), NOW)
    services.send_due_steps()
    assert services.send_due().sent == 1
    [received] = wait_for_messages(lead.email, 1)
    message = Message.objects.get(lead=lead)
    assert not message.tracked
    assert received.get_body(("html",)) is None  # no HTML part: no pixel, no redirected link
    text = received.get_body(("plain",)).get_content()
    assert STORY in text and "/m/c/" not in text and "/m/o/" not in text
    # Links from an earlier, tracked email still work, and record nothing.
    assert client.get(path_of(tracking.open_url(message.pk))).status_code == 200
    assert client.get(path_of(tracking.click_url(message.pk, STORY)))["Location"] == STORY
    assert activities(lead, ActivityKind.EMAIL_OPEN) == activities(lead, ActivityKind.EMAIL_CLICK) == 0


# --- the one-click unsubscribe -------------------------------------------------------------------


def unsubscribe_link(received) -> str:
    header = received["List-Unsubscribe"].strip()  # folded onto its own line: it is long
    assert header.startswith(f"<{SITE}/m/u/") and header.endswith("/>")
    return header[1:-1]


def test_every_cadence_email_carries_the_one_click_unsubscribe(sent, inbound_sdr):
    lead, _message, received = sent
    url = unsubscribe_link(received)
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"To stop receiving these emails: {url}" in received.get_body(("plain",)).get_content()

    # A manual step's email, written in the composer, carries it too; a plain email does not.
    enrollment = Enrollment.objects.get(lead=lead)
    services.schedule_email(
        sender=inbound_sdr,
        lead_id=lead.pk,
        subject="Call?",
        body="Shall we talk?",
        step_id=enrollment.step_id,
    )
    services.schedule_email(sender=inbound_sdr, lead_id=lead.pk, subject="Notes", body="As promised.")
    assert services.send_due().sent == 2
    by_subject = {m["Subject"]: m for m in wait_for_messages(lead.email, 3)}
    assert by_subject["Call?"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert by_subject["Notes"]["List-Unsubscribe"] is None


def test_a_post_to_the_unsubscribe_link_suppresses_the_address_and_ends_the_cadence(sent):
    lead, message, received = sent
    one_click = Client(enforce_csrf_checks=True)  # a mail client: no session, no CSRF token
    for _ in range(2):
        response = one_click.post(
            path_of(unsubscribe_link(received)),
            "List-Unsubscribe=One-Click",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 200 and "You are unsubscribed" in response.content.decode()
    row = Suppression.objects.get()
    assert (row.address, row.reason, row.message) == (lead.email, Suppression.Reason.UNSUBSCRIBED, message)
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.UNSUBSCRIBED
    assert open_steps(lead) == []
    assert (
        LeadEvent.objects.filter(lead=lead, message__contains="unsubscribed: nobody emails it again").count()
        == 1
    )


def test_a_get_of_the_unsubscribe_link_only_asks(sent):
    lead, _message, received = sent
    response = Client().get(path_of(unsubscribe_link(received)))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Stop receiving these emails?" in page and 'method="post"' in page
    assert not Suppression.objects.exists()
    assert Enrollment.objects.get(lead=lead).state == Enrollment.State.ACTIVE


def test_after_an_unsubscribe_every_path_refuses_the_address(sent, inbound_sdr, marketing, frozen):
    lead, _message, received = sent
    later = services.schedule_email(
        sender=inbound_sdr, lead_id=lead.pk, subject="Later", body="Tomorrow", send_at=berlin(THU, 10)
    )
    Client().post(path_of(unsubscribe_link(received)))

    # Scheduled before: cancelled at once.
    later.refresh_from_db()
    assert later.status == Message.Status.CANCELLED and "unsubscribed" in later.error
    # The composer.
    with pytest.raises(services.MailError, match="unsubscribed"):
        services.schedule_email(sender=inbound_sdr, lead_id=lead.pk, subject="Hi", body="Hello")
    # An automatic step of another cadence: the cadence ends instead.
    frozen.move_to(berlin(THU, 11))
    cadences.enroll(lead_id=lead.pk, cadence_id=email_cadence("Second try").pk, by=inbound_sdr)
    assert services.send_due_steps().outcomes == {"ended": 1}
    assert Enrollment.objects.filter(lead=lead, state=Enrollment.State.UNSUBSCRIBED).count() == 2
    # A nurture track's step: the track ends instead.
    own_mailbox(marketing)
    email_cadence(
        "Nurture",
        steps=((0, "email", True, "News", "Hello {{ lead.first_name | there }}"),),
        kind=Cadence.Kind.NURTURE,
        sender=marketing,
    )
    sdr.dispose_lead(lead_id=lead.pk, by=inbound_sdr, to=Lead.Status.NURTURE, reason="Other")
    assert Enrollment.objects.get(lead=lead, state=Enrollment.State.ACTIVE).cadence.kind == "nurture"
    assert services.send_due_steps().outcomes == {"ended": 1}
    assert Enrollment.objects.filter(lead=lead, state=Enrollment.State.UNSUBSCRIBED).count() == 3
    assert services.send_due().outcomes == {}
    assert len(wait_for_messages(lead.email, 1)) == 1  # only the email sent before


def test_an_unsubscribe_committed_after_the_scheduling_cancels_the_email_at_claim_time(sent, inbound_sdr):
    lead, _message, _received = sent
    enrollment = Enrollment.objects.get(lead=lead)
    step_email = services.schedule_email(
        sender=inbound_sdr,
        lead_id=lead.pk,
        subject="Call?",
        body="Shall we talk?",
        step_id=enrollment.step_id,
    )
    # As if the unsubscribe committed between this email's scheduling and its claim (the
    # service cancels what is scheduled; a row written meanwhile is caught at the claim).
    Suppression.objects.create(address=lead.email, reason=Suppression.Reason.UNSUBSCRIBED)

    assert services.send_due().outcomes == {"cancelled": 1}
    step_email.refresh_from_db()
    assert step_email.status == Message.Status.CANCELLED and "unsubscribed" in step_email.error
    assert Enrollment.objects.get(pk=enrollment.pk).state == Enrollment.State.UNSUBSCRIBED
    assert not WorkItem.objects.open().for_subject(lead).filter(kind=WorkItem.Kind.CADENCE_STEP).exists()
    assert len(wait_for_messages(lead.email, 1)) == 1


def test_an_address_added_in_the_admin_is_suppressed_as_the_send_service_compares_it(admin_client):
    from mail.models import Suppression as Row

    answer = admin_client.post(
        "/admin/mail/suppression/add/",
        {"address": " Blocked@Example.COM ", "reason": "manual", "detail": "Asked by phone"},
    )
    assert answer.status_code == 302
    row = Row.objects.get()
    assert (row.address, row.reason, row.detail) == ("blocked@example.com", "manual", "Asked by phone")
    assert admin_client.get("/admin/mail/suppression/").status_code == 200
