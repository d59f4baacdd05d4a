"""Each piece of news notifies the right person exactly once, from the service where it
happens: assignments (routing, a manager's reassignment, a handoff, a customer account), a
handoff answered, a renewal window opened, a reply received."""

from datetime import UTC, date, datetime

import pytest

from accounts.models import Account
from accounts.services import accept_handoff, reject_handoff
from mail.models import Message
from mail.services import record_reply
from notifications.models import Kind, Notification
from renewals.services import assign_account_manager, run_renewals
from sdr.services import reassign_leads
from tests.factories import contract, customer, handed_off, raise_hand, routed_lead

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Berlin


def news(kind=None):
    rows = Notification.objects.order_by("id")
    if kind:
        rows = rows.filter(kind=kind)
    return [(n.recipient.username, n.kind, n.text, n.url) for n in rows]


def test_routing_a_lead_notifies_the_sdr_it_went_to(catch_all_rule, inbound_sdr):
    inbound_sdr.team = catch_all_rule.team
    inbound_sdr.save(update_fields=["team"])

    lead = raise_hand("ada@engines.example", first_name="Ada", last_name="Lovelace")

    assert news() == [("sam", Kind.ASSIGNED, "Ada Lovelace was assigned to you", f"/leads/{lead.pk}/")]


def test_a_managers_bulk_reassignment_is_one_notification_for_the_new_rep(manager, inbound_sdr, other_sdr):
    leads = [routed_lead(inbound_sdr, email=f"p{i}@x.example") for i in range(3)]

    reassign_leads(lead_ids=[lead.pk for lead in leads], to=other_sdr, by=manager, reason="Sam is on holiday")

    assert news() == [("lena", Kind.ASSIGNED, "3 leads were reassigned to you", "/queue/")]


def test_reassigning_one_lead_links_to_it(manager, inbound_sdr, other_sdr):
    lead = routed_lead(inbound_sdr, first_name="Grace", last_name="Hopper")

    reassign_leads(lead_ids=[lead.pk], to=other_sdr, by=manager, reason="Speaks German")

    assert news() == [("lena", Kind.ASSIGNED, "Grace Hopper was reassigned to you", f"/leads/{lead.pk}/")]


def test_a_handoff_notifies_the_ae(inbound_sdr, ae):
    opportunity = handed_off(inbound_sdr, ae, company="Engines Ltd")

    assert news() == [
        (
            "alex",
            Kind.ASSIGNED,
            f"Handoff from {inbound_sdr}: {opportunity.name}, to accept or reject",
            f"/opportunities/{opportunity.pk}/",
        )
    ]


def test_an_accepted_handoff_notifies_the_sdr_who_handed_it_off(inbound_sdr, ae):
    opportunity = handed_off(inbound_sdr, ae)

    accept_handoff(opportunity_id=opportunity.pk, by=ae)

    assert news(Kind.HANDOFF_ANSWERED) == [
        (
            "sam",
            Kind.HANDOFF_ANSWERED,
            f"{ae} accepted your handoff: {opportunity.name}",
            opportunity.get_absolute_url(),
        )
    ]


def test_a_rejected_handoff_notifies_the_sdr_with_the_lead_back_in_their_queue(inbound_sdr, ae):
    opportunity = handed_off(inbound_sdr, ae)

    reject_handoff(
        opportunity_id=opportunity.pk, by=ae, reason="Not qualified: no budget", note="They froze spending."
    )

    assert news(Kind.HANDOFF_ANSWERED) == [
        (
            "sam",
            Kind.HANDOFF_ANSWERED,
            f"{ae} rejected your handoff: {opportunity.name} (Not qualified: no budget)",
            f"/leads/{opportunity.lead_id}/",
        )
    ]


def test_a_renewal_window_opening_notifies_the_am_once(am):
    term = contract(
        customer(am, name="Acme GmbH"), end=date(2027, 1, 15), now=datetime(2026, 1, 16, tzinfo=UTC)
    )

    run_renewals(now=NOW)
    run_renewals(now=NOW)  # a re-run opens nothing and notifies nobody again

    assert news(Kind.RENEWAL_OPENED) == [
        (
            "casey",
            Kind.RENEWAL_OPENED,
            "Renewal opened: Acme GmbH, the contract ends Fri 15 Jan 2027",
            f"/contracts/{term.pk}/",
        )
    ]


def test_giving_an_account_to_an_am_notifies_them(manager, am):
    account = Account.objects.create(name="Nova", domain="nova.example", customer_since=NOW)

    assign_account_manager(account_id=account.pk, am=am, by=manager)

    assert news() == [("casey", Kind.ASSIGNED, "You manage Nova now", f"/accounts/{account.pk}/")]


def test_a_reply_notifies_the_leads_owner_once(inbound_sdr):
    lead = routed_lead(inbound_sdr, email="ada@engines.example")
    reply = Message.objects.create(
        direction=Message.Direction.IN,
        status=Message.Status.RECEIVED,
        kind=Message.Kind.REPLY,
        lead=lead,
        from_address="ada@engines.example",
        to_address="sam@refinery.example",
        subject="Re: your call",
        body="Thursday works.",
        received_at=NOW,
    )

    record_reply(reply, now=NOW)
    record_reply(reply, now=NOW)  # the same message recorded again (a retried poll)

    assert news(Kind.REPLY) == [
        ("sam", Kind.REPLY, "Reply from ada@engines.example: Re: your call", f"/leads/{lead.pk}/")
    ]
