"""Bulk actions on the lead list: assign, nurture, disqualify, enroll in a cadence and export,
on the rows chosen or on every lead the filter matches; each lead through its service (the
timeline, the work items), refused leads left untouched and reported, bad input answered with
the form's errors."""

import asyncio
import csv
import io
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient
from django.urls import reverse

from leads.models import Lead, LeadEvent
from sdr.models import Enrollment
from sdr.services import MAX_BULK_LEADS, cadences
from tests.factories import LeadFactory, routed_lead
from tests.sdr.test_cadence_pages import make_cadence
from work.models import WorkItem

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Berlin
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

BULK = reverse("sdr:bulk")
SPAM = "Spam or fake details"


def apply(client, action, leads=(), **fields):
    data = {"action": action, "step": "apply", "lead": [lead.pk for lead in leads], **fields}
    return client.post(BULK, data)


def status_of(lead) -> str:
    lead.refresh_from_db()
    return lead.status


def open_items(lead) -> list[WorkItem]:
    return list(WorkItem.objects.for_subject(lead).filter(state=WorkItem.State.OPEN))


# --- nurture and disqualify ----------------------------------------------------------------------


def test_a_rep_disqualifies_the_rows_chosen_and_sees_what_was_refused(client_for, inbound_sdr):
    fresh = routed_lead(inbound_sdr, now=NOW, first_name="Ada", last_name="Fresh")
    done_before = LeadFactory(
        first_name="Bo", last_name="Gone", owner=inbound_sdr, status=Lead.Status.DISQUALIFIED
    )
    response = apply(
        client_for(inbound_sdr), "disqualify", [fresh, done_before], reason=SPAM, note="fake phone"
    )
    body = response.content.decode()

    assert response.status_code == 200
    assert "Done: 1" in body and f"Ada Fresh</a>: Disqualified: {SPAM}." in body
    assert (
        "Not done: 1" in body
        and 'Bo Gone</a>: <span class="errors">It is already disqualified.</span>' in body
    )
    assert status_of(fresh) == Lead.Status.DISQUALIFIED and fresh.status_reason == f"{SPAM}: fake phone"
    assert not open_items(fresh)  # its first-touch timer stopped
    event = fresh.events.get(kind=LeadEvent.Kind.STATUS, to_status=Lead.Status.DISQUALIFIED)
    assert event.actor == inbound_sdr and event.message == f"{SPAM}: fake phone"
    assert not done_before.events.exists()


def test_a_manager_nurtures_leads_in_their_teams_only(client_for, manager, inbound_sdr, outbound_sdr):
    ours = routed_lead(inbound_sdr, now=NOW, first_name="Ours")
    theirs = routed_lead(outbound_sdr, now=NOW, first_name="Theirs")
    marketing_lead = LeadFactory(first_name="Fresh", status=Lead.Status.NURTURE)
    response = apply(
        client_for(manager), "nurture", [ours, theirs, marketing_lead], reason="Not ready yet (timing)"
    )
    body = response.content.decode()
    assert "Done: 1" in body and "Not done: 2" in body
    assert "It is in an SDR&#x27;s hands outside your teams." in body
    assert "It is already nurture." in body
    assert status_of(ours) == Lead.Status.NURTURE
    assert status_of(theirs) == Lead.Status.MQL and open_items(theirs)
    assert not theirs.events.exists()


def test_marketing_disqualifies_leads_nobody_works(client_for, marketing, inbound_sdr):
    spam = LeadFactory(first_name="Spam", status=Lead.Status.NURTURE)
    worked = routed_lead(inbound_sdr, now=NOW, first_name="Worked")
    body = apply(client_for(marketing), "disqualify", [spam, worked], reason=SPAM).content.decode()
    assert "Done: 1" in body and "Not done: 1" in body
    assert status_of(spam) == Lead.Status.DISQUALIFIED
    assert status_of(worked) == Lead.Status.MQL


def test_a_reason_from_the_other_list_is_refused(client_for, inbound_sdr):
    lead = routed_lead(inbound_sdr, now=NOW)
    response = apply(client_for(inbound_sdr), "nurture", [lead], reason=SPAM)
    assert response.status_code == 400 and "Choose a reason from the list." in response.content.decode()
    assert status_of(lead) == Lead.Status.MQL


# --- assign ------------------------------------------------------------------------------------


def test_a_manager_assigns_leads_of_their_teams(client_for, manager, inbound_sdr, other_sdr, outbound_sdr):
    sams = routed_lead(inbound_sdr, now=NOW, first_name="Sams")
    lenas = routed_lead(other_sdr, now=NOW, first_name="Lenas")
    toms = routed_lead(outbound_sdr, now=NOW, first_name="Toms")
    parked = LeadFactory(first_name="Parked", status=Lead.Status.NURTURE, team=inbound_sdr.team)
    response = apply(
        client_for(manager),
        "assign",
        [sams, lenas, toms, parked],
        to=other_sdr.pk,
        assign_reason="Sam is away",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Done: 1" in body and f"Now {other_sdr}&#x27;s." in body
    assert "Not done: 3" in body
    assert f"It is already {other_sdr}&#x27;s." in body
    assert "It is not in a team you manage." in body
    assert "A lead in Nurture is not in a queue" in body

    sams.refresh_from_db()
    assert sams.owner == other_sdr
    assert [item.owner for item in open_items(sams)] == [other_sdr]  # the timer went with it
    event = sams.events.get(kind=LeadEvent.Kind.REASSIGNED)
    assert event.actor == manager and event.message.endswith("Sam is away")
    toms.refresh_from_db()
    assert toms.owner == outbound_sdr and not toms.events.exists()


def test_reps_do_not_assign(client_for, inbound_sdr, other_sdr):
    lead = routed_lead(inbound_sdr, now=NOW)
    response = apply(client_for(inbound_sdr), "assign", [lead], to=other_sdr.pk, assign_reason="x")
    assert response.status_code == 400 and "Only managers assign leads." in response.content.decode()
    lead.refresh_from_db()
    assert lead.owner == inbound_sdr


def test_assigning_needs_a_reason(client_for, manager, inbound_sdr, other_sdr):
    lead = routed_lead(inbound_sdr, now=NOW)
    response = apply(client_for(manager), "assign", [lead], to=other_sdr.pk, assign_reason="  ")
    assert response.status_code == 400 and "Say why the leads are assigned" in response.content.decode()


# --- enroll ------------------------------------------------------------------------------------


def test_a_rep_enrolls_leads_not_already_in_a_cadence(client_for, inbound_sdr):
    cadence = make_cadence("Three touches")
    free = routed_lead(inbound_sdr, now=NOW, first_name="Free")
    busy = routed_lead(inbound_sdr, now=NOW, first_name="Busy")
    cadences.enroll(lead_id=busy.pk, cadence_id=make_cadence("Other").pk, by=inbound_sdr, now=NOW)
    body = apply(client_for(inbound_sdr), "enroll", [free, busy], cadence=cadence.pk).content.decode()
    assert "Done: 1" in body and "Enrolled in Three touches." in body
    assert "This lead is already in the cadence Other; stop it first." in body
    assert Enrollment.objects.get(lead=free).cadence == cadence
    assert list(Enrollment.objects.filter(lead=busy).values_list("cadence__name", flat=True)) == ["Other"]
    assert free.events.filter(kind=LeadEvent.Kind.CADENCE).count() == 1


# --- all matching ------------------------------------------------------------------------------


def test_all_matching_acts_on_the_filtered_leads_once_their_count_is_confirmed(
    client_for, manager, inbound_sdr
):
    acme = [routed_lead(inbound_sdr, now=NOW, company="Acme GmbH") for _ in range(3)]
    other = routed_lead(inbound_sdr, now=NOW, company="Globex")
    client = client_for(manager)
    review = client.post(BULK, {"action": "disqualify", "scope": "matching", "query": "q=acme"})
    assert (
        review.status_code == 200
        and "<strong>3 leads</strong>: every lead the list" in review.content.decode()
    )
    assert 'name="count" value="3"' in review.content.decode()

    routed_lead(inbound_sdr, now=NOW, company="Acme Inc")  # a fourth arrives meanwhile
    stale = {"action": "disqualify", "step": "apply", "scope": "matching", "query": "q=acme", "count": 3}
    response = client.post(BULK, {**stale, "reason": SPAM})
    assert response.status_code == 400
    assert "The filter now matches 4 leads, not 3; check them and confirm again." in response.content.decode()
    assert all(status_of(lead) == Lead.Status.MQL for lead in acme)

    response = client.post(BULK, {**stale, "count": 4, "reason": SPAM})
    assert "Done: 4" in response.content.decode()
    assert all(status_of(lead) == Lead.Status.DISQUALIFIED for lead in acme)
    assert status_of(other) == Lead.Status.MQL


def test_all_matching_is_only_what_the_person_sees(client_for, inbound_sdr, other_sdr):
    mine = routed_lead(inbound_sdr, now=NOW, company="Acme")
    lenas = routed_lead(other_sdr, now=NOW, company="Acme")
    data = {"action": "disqualify", "step": "apply", "scope": "matching", "query": "q=acme", "count": 1}
    assert "Done: 1" in client_for(inbound_sdr).post(BULK, {**data, "reason": SPAM}).content.decode()
    assert status_of(mine) == Lead.Status.DISQUALIFIED and status_of(lenas) == Lead.Status.MQL


def test_too_many_matching_leads_are_refused_whole(client_for, manager):
    LeadFactory.create_batch(MAX_BULK_LEADS + 1, status=Lead.Status.NURTURE, company="Bulk")
    data = {"action": "disqualify", "scope": "matching", "query": "q=bulk", "reason": SPAM}
    review = client_for(manager).post(BULK, data)
    assert "At most 1,000 leads at a time: narrow the filter." in review.content.decode()
    response = client_for(manager).post(BULK, {**data, "step": "apply", "count": MAX_BULK_LEADS + 1})
    assert response.status_code == 400 and "Choose at most 1,000 leads at a time" in response.content.decode()
    assert not Lead.objects.filter(status=Lead.Status.DISQUALIFIED).exists()


# --- export ------------------------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_the_export_is_formula_safe_and_holds_only_visible_rows(client_for, inbound_sdr, other_sdr):
    evil = routed_lead(
        inbound_sdr,
        now=NOW,
        first_name='=HYPERLINK("http://evil.example","x")',
        last_name="+1",
        company="@SUM(A1)",
        title="-2",
        phone="\t=1",
    )
    plain = routed_lead(inbound_sdr, now=NOW, first_name="Ada", last_name="Lovelace", company="Analytical")
    lenas = routed_lead(other_sdr, now=NOW, first_name="Lena's")
    response = client_for(inbound_sdr).post(
        BULK, {"action": "export", "scope": "matching", "query": "sort=oldest"}
    )
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="leads-2026-11-24.csv"'
    header, *rows = read_csv(response)
    assert header[:4] == ["id", "first name", "last name", "email"]
    by_id = {row[0]: row for row in rows}
    assert set(by_id) == {str(evil.pk), str(plain.pk)} and str(lenas.pk) not in by_id
    row = by_id[str(evil.pk)]
    assert row[1] == '\'=HYPERLINK("http://evil.example","x")' and row[2] == "'+1"
    assert row[4] == "'\t=1" and row[5] == "'@SUM(A1)" and row[6] == "'-2"
    assert by_id[str(plain.pk)][1:3] == ["Ada", "Lovelace"]
    assert by_id[str(plain.pk)][header.index("captured at (UTC)")] == "2026-11-24T09:00:00Z"


@pytest.mark.django_db(transaction=True)
def test_the_export_streams_row_by_row_under_asgi(manager, inbound_sdr, monkeypatch):
    """Production serves the ASGI app: there a synchronous iterator would be read whole into
    memory (Django warns), so the export hands Django an asynchronous one. The request runs
    in a thread of its own (the browser tests' Playwright keeps an event loop in this one), on
    committed rows, and closes the connections it opened there."""
    monkeypatch.setattr("kit.exporting.BLOCK_LINES", 1)  # a block a line (500 lines otherwise)
    lead = routed_lead(inbound_sdr, now=NOW, first_name="=cmd|' /C calc'!A0")
    client = AsyncClient()
    client.force_login(manager)

    async def download():
        try:
            response = await client.post(BULK, {"action": "export", "scope": "matching", "query": ""})
            return response, [chunk async for chunk in response.streaming_content]
        finally:
            await sync_to_async(connections.close_all)()

    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=1) as thread:
        warnings.filterwarnings("error", message="StreamingHttpResponse must consume")
        response, chunks = thread.submit(asyncio.run, download()).result()
    assert response.status_code == 200 and response.is_async
    assert len(chunks) == 2  # the header, then the row: line by line, not one buffer
    rows = list(csv.reader(io.StringIO(b"".join(chunks).decode()[1:])))
    assert rows[1][0] == str(lead.pk) and rows[1][1] == "'=cmd|' /C calc'!A0"


def test_the_export_of_chosen_rows(client_for, manager, inbound_sdr):
    chosen = routed_lead(inbound_sdr, now=NOW)
    routed_lead(inbound_sdr, now=NOW)
    response = client_for(manager).post(BULK, {"action": "export", "lead": [chosen.pk]})
    _header, *rows = read_csv(response)
    assert [row[0] for row in rows] == [str(chosen.pk)]


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "explode", "lead": ["1"]}, "Choose an action from the list."),
        ({"action": "disqualify"}, "Choose at least one row, or all the leads the filter matches."),
        ({"action": "disqualify", "lead": ["abc"]}, "Choose rows of the list."),
        ({"action": "disqualify", "lead": ["99999999999"]}, "Choose rows of the list."),
        ({"action": "disqualify", "lead": [str(n) for n in range(1, 700)]}, "Choose at most 500 rows"),
        (
            {"action": "disqualify", "scope": "matching", "query": "captured_after=garbage"},
            "filters have errors",
        ),
        ({"action": "disqualify", "scope": "everything", "lead": ["1"]}, "Select a valid choice"),
        ({"action": "enroll", "step": "apply", "lead": ["1"], "cadence": "x"}, "Choose an active cadence."),
        (
            {"action": "disqualify", "step": "apply", "scope": "matching", "query": ""},
            "Confirm how many leads",
        ),
        (
            {"action": "disqualify", "step": "apply", "lead": ["1"], "count": "-5"},
            "greater than or equal to 0",
        ),
    ],
)
def test_bad_input_is_a_form_error(client_for, manager, data, message):
    response = client_for(manager).post(BULK, data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_rows_the_person_does_not_see_are_refused_and_nothing_changes(client_for, inbound_sdr, other_sdr):
    mine = routed_lead(inbound_sdr, now=NOW)
    lenas = routed_lead(other_sdr, now=NOW)
    response = apply(client_for(inbound_sdr), "disqualify", [mine, lenas], reason=SPAM)
    assert response.status_code == 400
    assert "1 of the rows chosen is not on your list any more" in response.content.decode()
    assert status_of(mine) == Lead.Status.MQL and status_of(lenas) == Lead.Status.MQL


def test_only_roles_that_work_leads_act_on_them(client_for, client, ae, inbound_sdr):
    lead = routed_lead(inbound_sdr, now=NOW)
    assert apply(client_for(ae), "disqualify", [lead], reason=SPAM).status_code == 403
    assert client_for(inbound_sdr).get(BULK).status_code == 405
    assert status_of(lead) == Lead.Status.MQL


def test_the_review_names_the_leads_and_asks_for_what_the_action_needs(client_for, manager, inbound_sdr):
    leads = [routed_lead(inbound_sdr, now=NOW, first_name=f"Person{n}", last_name="X") for n in range(3)]
    response = client_for(manager).post(BULK, {"action": "assign", "lead": [lead.pk for lead in leads]})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<strong>3 leads</strong>" in body and "Person0 X" in body
    assert 'name="to"' in body and 'name="assign_reason"' in body
    assert "Assign to a rep: 3 leads" in body
    assert all(status_of(lead) == Lead.Status.MQL for lead in leads)
