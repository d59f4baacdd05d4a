"""A lead's emails on its page (an htmx fragment from the mail app: the leads app cannot import
it): sent, scheduled, failed with the server's answer, replies, each with its time in the
viewer's zone; the suppression state of the address, and for a manager the way to take it off
the list. Addresses link to the composer and phone numbers are tel: links wherever a lead or
contact is shown, for whoever may email them."""

from datetime import UTC, datetime, timedelta

import pytest

from leads.models import LeadEvent
from mail import services
from mail.models import Message, Suppression
from tests.factories import accepted, routed_lead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)
HTMX = {"HX-Request": "true"}


@pytest.fixture
def bea(inbound_sdr):
    return routed_lead(
        inbound_sdr, first_name="Bea", last_name="Brandt", email="bea@brandt.example", phone="+49 30 1234-56"
    )


def message(lead, sender, **fields) -> Message:
    values = {
        "lead": lead,
        "sender": sender,
        "from_address": sender.email if sender else lead.email,
        "to_address": lead.email,
        "subject": "Quick question",
        "body": "Hi Bea",
        "message_id": f"<{Message.objects.count()}@refinery.example>",
        "created_at": NOW,
        **fields,
    }
    return Message.objects.create(**values)


def fragment(client, lead) -> str:
    answer = client.get(f"/mail/lead/{lead.pk}/emails/", headers=HTMX)
    assert answer.status_code == 200
    return answer.content.decode()


def test_the_lead_page_loads_its_emails_for_its_sdr_and_links_its_address_and_phone(
    client_for, inbound_sdr, bea
):
    html = client_for(inbound_sdr).get(f"/leads/{bea.pk}/").content.decode()
    assert f'hx-get="/mail/lead/{bea.pk}/emails/"' in html
    assert (
        f'href="/mail/compose/?lead={bea.pk}&amp;next=%2Fleads%2F{bea.pk}%2F"' in html
    )  # Write an email, and the address
    assert 'href="tel:+4930123456"' in html
    assert "mailto:" not in html


def test_marketing_sees_the_lead_but_not_its_emails_nor_a_composer_link(client_for, marketing, bea):
    client = client_for(marketing)
    html = client.get(f"/leads/{bea.pk}/").content.decode()
    assert "/mail/lead/" not in html and "/mail/compose/" not in html
    assert '<span class="email-address">bea@brandt.example</span>' in html
    assert client.get(f"/mail/lead/{bea.pk}/emails/", headers=HTMX).content == b""
    lead_list = client.get("/leads/").content.decode()
    assert "bea@brandt.example" in lead_list and "/mail/compose/" not in lead_list


def test_the_lead_list_links_addresses_to_the_composer_for_their_sdr(client_for, inbound_sdr, bea):
    html = client_for(inbound_sdr).get("/leads/").content.decode()
    assert f"/mail/compose/?lead={bea.pk}" in html


def test_each_email_shows_its_state_and_time_in_the_viewers_zone(client_for, inbound_sdr, bea):
    message(bea, inbound_sdr, status="sent", sent_at=NOW - timedelta(hours=2), subject="Sent one")
    message(bea, inbound_sdr, status="scheduled", send_at=NOW + timedelta(days=1), subject="Later one")
    message(
        bea,
        inbound_sdr,
        status="failed",
        subject="Failed one",
        error="The server refused it: 550 5.1.1 mailbox unavailable",
    )
    message(
        bea,
        None,
        direction="in",
        status="received",
        kind="reply",
        from_address=bea.email,
        to_address=inbound_sdr.email,
        subject="Re: Sent one",
        received_at=NOW - timedelta(minutes=30),
    )
    html = fragment(client_for(inbound_sdr), bea)
    assert "sent Tue 8 Dec 2026, 08:00 CET" in html  # 07:00 UTC in Berlin
    assert "to send Wed 9 Dec 2026, 10:00 CET" in html
    assert "answer: The server refused it: 550 5.1.1 mailbox unavailable" in html
    assert (
        "Re: Sent one" in html
        and "received Tue 8 Dec 2026, 09:30 CET" in html
        and "from bea@brandt.example" in html
    )
    assert html.count(" CET") == 4  # each time names its zone
    assert "Cancel this email" in html  # the scheduled one is Sam's


def test_the_emails_card_asks_a_fixed_number_of_queries(
    client_for, inbound_sdr, bea, django_assert_num_queries
):
    client = client_for(inbound_sdr)
    message(bea, inbound_sdr, status="sent", sent_at=NOW)
    fragment(client, bea)  # the session, once
    with django_assert_num_queries(6) as few:
        fragment(client, bea)
    for n in range(30):
        message(bea, inbound_sdr, status="sent", sent_at=NOW, subject=f"Email {n}")
    with django_assert_num_queries(len(few.captured_queries)):
        html = fragment(client, bea)
    assert "The newest 20 of 31." in html


def test_an_unsubscribed_address_says_so_and_a_manager_takes_it_off_the_list(
    client_for, inbound_sdr, manager, bea
):
    services.suppress(address=bea.email, reason=Suppression.Reason.UNSUBSCRIBED)
    sam_sees = fragment(client_for(inbound_sdr), bea)
    assert "Unsubscribed on Tue 8 Dec 2026: nobody emails bea@brandt.example again." in sam_sees
    assert "off the suppression list" not in sam_sees
    assert client_for(inbound_sdr).post(f"/mail/lead/{bea.pk}/unsuppress/").status_code == 403

    maria = client_for(manager)
    assert "Take bea@brandt.example off the suppression list" in fragment(maria, bea)
    answer = maria.post(f"/mail/lead/{bea.pk}/unsuppress/", headers=HTMX)
    assert answer.status_code == 200
    assert "bea@brandt.example is off the suppression list" in answer.content.decode()
    assert not Suppression.objects.exists()
    event = LeadEvent.objects.get(lead=bea, message__contains="taken off the suppression list")
    assert event.actor == manager


def test_a_bouncing_address_says_since_when(client_for, inbound_sdr, bea):
    services.suppress(address=bea.email, reason=Suppression.Reason.BOUNCED, detail="550 5.1.1 no such user")
    assert "Bounces since Tue 8 Dec 2026" in fragment(client_for(inbound_sdr), bea)


def test_a_manager_outside_the_leads_team_cannot_take_it_off_the_list(client_for, other_manager, bea):
    services.suppress(address=bea.email, reason=Suppression.Reason.BOUNCED)
    assert client_for(other_manager).post(f"/mail/lead/{bea.pk}/unsuppress/").status_code == 404
    assert Suppression.objects.exists()


def test_an_opportunity_links_its_contact_to_the_composer_and_its_phone(client_for, inbound_sdr, ae):
    opportunity = accepted(inbound_sdr, ae, first_name="Olga", phone="+1 (555) 010-2030")
    html = client_for(ae).get(f"/opportunities/{opportunity.pk}/").content.decode()
    assert f"/mail/compose/?opportunity={opportunity.pk}" in html
    assert f"/mail/compose/?contact={opportunity.contact_id}" in html
    assert 'href="tel:+15550102030"' in html
    assert "mailto:" not in html


def test_an_opportunity_page_loads_its_contacts_emails_for_the_ae(client_for, inbound_sdr, ae, other_ae):
    opportunity = accepted(inbound_sdr, ae, first_name="Olga")
    contact = opportunity.contact
    Message.objects.create(
        contact=contact,
        lead=None,
        sender=ae,
        from_address=ae.email,
        to_address=contact.email,
        subject="Proposal",
        status="sent",
        sent_at=NOW,
        message_id="<p@refinery.example>",
        created_at=NOW,
    )
    alex = client_for(ae)
    assert (
        f'hx-get="/mail/contact/{contact.pk}/emails/"'
        in alex.get(f"/opportunities/{opportunity.pk}/").content.decode()
    )
    html = alex.get(f"/mail/contact/{contact.pk}/emails/", headers=HTMX).content.decode()
    assert "Proposal" in html and f"/mail/compose/?contact={contact.pk}" in html
    # The lead's SDR sees it too (the contact came from their lead).
    assert "Proposal" in fragment(client_for(inbound_sdr), contact.lead)
    # Another AE with nothing on the account gets nothing.
    assert client_for(other_ae).get(f"/mail/contact/{contact.pk}/emails/", headers=HTMX).content == b""
