"""The composer: a template fills the subject and body, Preview merges the recipient's and the
sender's values (a missing one blocks the send, beside its field), Send now hands the email to
the one send service (``send_due`` delivers it through the rep's own SMTP server to the
prospect's real inbox, the lead's timeline shows it and its first-touch SLA stops), Send at a
time in the sender's business hours (outside them refused with the next opening, in the
sender's zone); a suppressed address and someone else's lead are refused."""

import logging
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from accounts.models import Account, Contact, Opportunity
from leads.models import Activity, Lead
from mail import services
from mail.models import Message, Template
from tests.factories import accepted, routed_lead
from tests.mail.pages import own_mailbox
from tests.mailservers import PASSWORD, mail_servers, unique_address, wait_for_messages  # noqa: F401
from work.models import WorkItem

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

# Tuesday 10:00 in Berlin: inside the Inbound EMEA team's business hours (09:00-17:00).
NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
URL = "/mail/compose/"


@pytest.fixture
def bea(inbound_sdr):
    return routed_lead(
        inbound_sdr,
        first_name="Bea",
        last_name="Brandt",
        company="Brandt AG",
        email=unique_address("bea", domain="example.com"),
    )


@pytest.fixture
def sam(inbound_sdr, client_for):
    return client_for(inbound_sdr)


@pytest.fixture
def template(db):
    return Template.objects.create(
        name="First touch",
        subject="Quick question, {{ lead.first_name }}",
        body="Hi {{ lead.first_name }},\n\nHow is {{ lead.company }} handling this?\n\n{{ sender.name }}",
    )


def compose(client, lead, action="preview", **fields):
    return client.post(f"{URL}?lead={lead.pk}", {"action": action, "subject": "", "body": "", **fields})


def test_the_composer_opens_for_my_lead_with_the_merge_fields_beside_it(sam, bea, template):
    page = sam.get(f"{URL}?lead={bea.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Email Bea Brandt" in html and bea.email in html
    assert "{{ lead.first_name }}" in html and "{{ sender.signature }}" in html
    assert "First touch (shared)" in html
    assert "Europe/Berlin" in html  # the send-at time is typed in the sender's zone


def test_choosing_a_template_fills_the_subject_and_body(sam, bea, template):
    part = sam.get(f"{URL}?lead={bea.pk}&part=text&template={template.pk}", headers={"HX-Request": "true"})
    assert part.status_code == 200
    html = part.content.decode()
    assert "<html" not in html
    assert "Quick question, {{ lead.first_name }}" in html
    assert "How is {{ lead.company }} handling this?" in html


def test_preview_merges_the_recipients_and_the_senders_values(sam, bea, inbound_sdr, template):
    answer = compose(sam, bea, subject=template.subject, body=template.body, template=template.pk)
    assert answer.status_code == 200
    preview = answer.context["preview"]
    assert preview.subject == "Quick question, Bea"
    assert preview.body == f"Hi Bea,\n\nHow is Brandt AG handling this?\n\n{inbound_sdr.get_full_name()}"
    assert "Quick question, Bea" in answer.content.decode()
    assert not Message.objects.exists()


def test_a_merge_field_without_a_value_shows_beside_the_field_and_blocks_the_send(sam, inbound_sdr):
    nameless = routed_lead(
        inbound_sdr, first_name="", last_name="", email=unique_address("x", domain="example.com")
    )
    text = {"subject": "Hello", "body": "Hi {{ lead.first_name }},\n\nA question."}
    preview = compose(sam, nameless, **text)
    assert preview.status_code == 400
    assert (
        "{{ lead.first_name }} has no value for this recipient" in preview.context["form"].errors["body"][0]
    )
    send = compose(sam, nameless, action="send", **text)
    assert send.status_code == 400
    assert "{{ lead.first_name }} has no value for this recipient" in send.content.decode()
    assert not Message.objects.exists()
    # A fallback sends.
    assert (
        compose(
            sam, nameless, action="send", subject="Hello", body="Hi {{ lead.first_name | there }}"
        ).status_code
        == 302
    )


@pytest.mark.usefixtures("mail_servers")
def test_send_now_delivers_through_my_own_server_and_is_the_first_touch(
    sam, bea, inbound_sdr, template, caplog
):
    caplog.set_level(logging.DEBUG)
    mailbox = own_mailbox(inbound_sdr)
    answer = compose(
        sam, bea, action="send", subject=template.subject, body=template.body, template=template.pk
    )
    assert answer.status_code == 302
    page = sam.get(answer["Location"]).content.decode()
    assert "Sent. On its way to " + bea.email in page
    message = Message.objects.get()
    assert (message.status, message.to_address, message.subject) == (
        "scheduled",
        bea.email,
        "Quick question, Bea",
    )
    assert message.from_address == mailbox.from_header and message.template == template

    result = services.send_due()
    assert result.sent == 1
    [received] = wait_for_messages(bea.email, 1)
    assert received["Message-ID"] == message.message_id
    assert received["Subject"] == "Quick question, Bea"
    assert "How is Brandt AG handling this?" in received.get_body(("plain",)).get_content()

    message.refresh_from_db()
    assert message.status == "sent" and message.sent_at == timezone.now()
    touch = Activity.objects.get(lead=bea, kind="email")
    assert touch.note.startswith("Quick question, Bea\n\nHi Bea,")
    item = WorkItem.objects.for_subject(bea).get(kind=WorkItem.Kind.FIRST_TOUCH)
    assert item.state == WorkItem.State.DONE and item.met_sla
    bea.refresh_from_db()
    assert bea.status == Lead.Status.WORKING
    # The mailbox's password went to the SMTP server and nowhere else.
    assert all(PASSWORD not in record.getMessage() for record in caplog.records)
    # The lead's page: the timeline shows it, and so does its Emails card.
    lead_page = sam.get(f"/leads/{bea.pk}/").content.decode()
    assert "Quick question, Bea" in lead_page
    emails = sam.get(f"/mail/lead/{bea.pk}/emails/", headers={"HX-Request": "true"}).content.decode()
    assert "Quick question, Bea" in emails and "sent Tue 8 Dec 2026, 10:00 CET" in emails


def test_send_at_a_time_outside_business_hours_is_refused_with_the_next_opening(sam, bea):
    # Saturday 12 December, 11:00 in Berlin.
    answer = compose(sam, bea, action="schedule", subject="Hi", body="Hello Bea", send_at="2026-12-12T11:00")
    assert answer.status_code == 400
    assert answer.context["form"].errors["send_at"] == [
        "That is outside your business hours; the next opening is Mon 14 Dec 2026, 09:00 CET."
    ]
    assert not Message.objects.exists()


def test_send_at_a_time_in_business_hours_is_scheduled_in_my_zone_and_can_be_cancelled(sam, bea, inbound_sdr):
    answer = compose(sam, bea, action="schedule", subject="Hi", body="Hello Bea", send_at="2026-12-09T14:30")
    assert answer.status_code == 302
    page = sam.get(answer["Location"]).content.decode()
    assert "Scheduled for Wed 9 Dec 2026, 14:30 CET" in page
    message = Message.objects.get()
    assert message.send_at == datetime(2026, 12, 9, 13, 30, tzinfo=UTC)
    assert "to send Wed 9 Dec 2026, 14:30 CET" in page
    assert services.send_due().sent == 0  # not yet

    cancelled = sam.post(
        f"/mail/messages/{message.pk}/cancel/",
        {"of": "lead", "of_id": bea.pk},
        headers={"HX-Request": "true"},
    )
    assert cancelled.status_code == 200
    assert "will not be sent" in cancelled.content.decode()
    message.refresh_from_db()
    assert message.status == "cancelled"


def test_a_time_in_the_past_is_refused(sam, bea):
    answer = compose(sam, bea, action="schedule", subject="Hi", body="Hello", send_at="2026-12-01T10:00")
    assert answer.status_code == 400
    assert "That time has passed" in answer.context["form"].errors["send_at"][0]


def test_send_at_without_a_time_asks_for_one(sam, bea):
    answer = compose(sam, bea, action="schedule", subject="Hi", body="Hello")
    assert answer.context["form"].errors["send_at"] == ["Choose when to send it, or send it now."]


def test_a_suppressed_address_is_refused_and_the_composer_says_why(sam, bea):
    services.suppress(address=bea.email, reason="unsubscribed")
    page = sam.get(f"{URL}?lead={bea.pk}").content.decode()
    assert "Unsubscribed on Tue 8 Dec 2026: nobody emails" in page
    answer = compose(sam, bea, action="send", subject="Hi", body="Hello")
    assert answer.status_code == 400
    assert f"{bea.email} unsubscribed on Tue 8 Dec 2026; nobody emails it again." in answer.content.decode()
    assert not Message.objects.exists()


def test_another_sdrs_lead_is_a_404(client_for, other_sdr, bea):
    lena = client_for(other_sdr)
    assert lena.get(f"{URL}?lead={bea.pk}").status_code == 404
    assert compose(lena, bea, action="send", subject="Hi", body="Hello").status_code == 404
    assert lena.get(f"/mail/lead/{bea.pk}/emails/", headers={"HX-Request": "true"}).content == b""
    assert not Message.objects.exists()


@pytest.mark.parametrize("query", ["", "?lead=abc", "?lead=0", "?lead=99999999999", "?contact=1.5"])
def test_nobody_to_write_to_is_a_404(sam, query):
    assert sam.get(f"{URL}{query}").status_code == 404


def test_an_opportunity_writes_to_its_contact_and_an_account_to_a_chosen_one(
    client_for, inbound_sdr, other_sdr, ae
):
    opportunity = accepted(inbound_sdr, ae, first_name="Olga", last_name="Ost", company="Ost GmbH")
    contact = opportunity.contact
    alex = client_for(ae)
    forwarded = alex.get(f"{URL}?opportunity={opportunity.pk}")
    assert forwarded.status_code == 302
    assert forwarded["Location"] == f"{URL}?contact={contact.pk}&next=%2Fopportunities%2F{opportunity.pk}%2F"
    page = alex.get(forwarded["Location"]).content.decode()
    assert f"Email {contact}" in page and contact.email in page

    other = Contact.objects.create(account=opportunity.account, email="paul@ost.example", first_name="Paul")
    choose = alex.get(f"{URL}?account={opportunity.account_id}")
    assert choose.status_code == 200
    html = choose.content.decode()
    assert f"?contact={contact.pk}" in html and f"?contact={other.pk}" in html
    # Someone with no opportunity there writes to nobody at the account.
    assert client_for(other_sdr).get(f"{URL}?account={opportunity.account_id}").status_code == 404
    assert client_for(other_sdr).get(f"{URL}?opportunity={opportunity.pk}").status_code in (403, 404)


def test_an_account_with_no_contact_i_may_email_is_a_404(sam):
    account = Account.objects.create(name="Nobody Ltd")
    assert sam.get(f"{URL}?account={account.pk}").status_code == 404
    assert not Opportunity.objects.exists()


def test_the_queue_panel_composer_posts_into_the_panel_and_shows_the_result(sam, bea):
    item = WorkItem.objects.for_subject(bea).get()
    panel = sam.get(f"{URL}?lead={bea.pk}&panel={item.pk}", headers={"HX-Request": "true"})
    html = panel.content.decode()
    assert "<html" not in html
    assert f'hx-target="#panel-{item.pk}"' in html and 'data-action="close"' in html
    sent = sam.post(
        f"{URL}?lead={bea.pk}&panel={item.pk}",
        {"action": "send", "subject": "Hi {{ lead.first_name }}", "body": "Hello"},
        headers={"HX-Request": "true"},
    )
    assert sent.status_code == 200
    html = sent.content.decode()
    assert "Sent." in html and "Hi Bea" in html and "Write another" in html
