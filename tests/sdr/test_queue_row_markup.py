"""A queue row's markup, now written in Python (``sdr.views.row_html``): every part a row can
show, escaped as the template escaped it, on the list and on a row answered alone."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from leads.models import Lead
from tests.factories import routed_lead
from work import services as work
from work.models import WorkItem

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # Tuesday 10:00 in Berlin


@pytest.fixture(autouse=True)
def _that_tuesday():
    with time_machine.travel(NOW):
        yield


def row_of(body: str, item: WorkItem) -> str:
    match = re.search(rf'<li class="q-row[^"]*" id="item-{item.pk}".*?</li>\n', body, re.S)
    assert match, f"no row for item {item.pk}"
    return match.group(0)


def returned(lead: Lead, note: str) -> WorkItem:
    """The item an AE's rejection leaves in the SDR's queue, with the AE's note."""
    [item] = work.open_items(
        [
            work.NewItem(
                subject=lead,
                kind=WorkItem.Kind.HANDOFF_RETURNED,
                title="Returned by the AE: not a fit",
                owner_id=lead.owner_id,
                team_id=lead.team_id,
                due_at=NOW - timedelta(hours=1),
                note=note,
            )
        ],
        now=NOW,
    )
    return item


@pytest.mark.django_db
def test_a_row_shows_every_part_escaped(client_for, inbound_sdr):
    lead = routed_lead(
        inbound_sdr,
        now=NOW - timedelta(hours=2),
        hand_raiser=True,
        first_name="Tom & <Jerry>",
        last_name="O'Neil",
        company='Acme "Labs"',
        title="VP <Sales>",
        phone="+49 (30) 1234-56",
        rating=Lead.Rating.A,
    )
    item = WorkItem.objects.for_subject(lead).get()
    body = client_for(inbound_sdr).get(reverse("sdr:queue")).content.decode()
    row = row_of(body, item)

    lead_url = reverse("leads:detail", args=[lead.pk])
    assert row.startswith(f'<li class="q-row q-open" id="item-{item.pk}" data-lead-url="{lead_url}">\n')
    assert f'<a class="q-name" href="{lead_url}">Tom &amp; &lt;Jerry&gt; O&#x27;Neil</a>' in row
    assert '<span class="tag hot" title="Asked for a call">call</span>' in row
    assert '<span class="status status-mql">MQL</span>' in row
    assert '<br><small class="muted">Acme &quot;Labs&quot; · VP &lt;Sales&gt;</small>' in row
    assert re.search(r'title="Fit [A-F] · engagement \d+\.\d today"', row)  # one decimal, as |floatformat:1
    assert '<span class="tag" title="Rep rating: A (hot)">A</span>' in row
    assert '<span class="muted">No touch yet</span>' in row
    assert f'hx-get="{reverse("sdr:item", args=[item.pk])}" hx-target="#panel-{item.pk}"' in row
    compose = reverse("mail:compose")
    assert f'href="{compose}?lead={lead.pk}&amp;next=/queue/"' in row
    assert f'hx-get="{compose}?lead={lead.pk}&amp;panel={item.pk}"' in row
    assert '<a class="button q-call" href="tel:+4930123456" title="+49 (30) 1234-56">Call</a>' in row
    assert row.endswith(f'<div class="q-panel" id="panel-{item.pk}"></div>\n</li>\n')


@pytest.mark.django_db
def test_a_returned_handoff_shows_the_aes_note_cut_and_escaped(client_for, inbound_sdr):
    lead = routed_lead(inbound_sdr, now=NOW - timedelta(hours=3), first_name="Ada")
    note = "<b>No budget</b> " + "x" * 400
    item = returned(lead, note)
    body = client_for(inbound_sdr).get(reverse("sdr:queue")).content.decode()
    row = row_of(body, item)
    assert '<span class="tag returned">Returned</span> Returned by the AE: not a fit' in row
    feedback = re.search(r'<span class="q-feedback" title="The AE\u2019s note">(.*?)</span>', row).group(1)
    assert feedback.startswith("&lt;b&gt;No budget&lt;/b&gt; xxx") and feedback.endswith("…")
    assert len(feedback.replace("&lt;", "<").replace("&gt;", ">")) == 280


@pytest.mark.django_db
def test_a_managers_read_only_view_has_no_actions(client_for, manager, inbound_sdr):
    lead = routed_lead(inbound_sdr, now=NOW - timedelta(hours=1), phone="+1 555 0100")
    item = WorkItem.objects.for_subject(lead).get()
    body = client_for(manager).get(reverse("sdr:queue") + f"?rep={inbound_sdr.pk}").content.decode()
    assert '<div class="q-actions"></div>' in row_of(body, item)


@pytest.mark.django_db
def test_a_row_answered_alone_is_the_rows_markup_with_its_notice(client_for, inbound_sdr):
    lead = routed_lead(inbound_sdr, now=NOW - timedelta(hours=1), first_name="Ada")
    item = WorkItem.objects.for_subject(lead).get()
    client = client_for(inbound_sdr)
    answer = client.post(
        reverse("sdr:touch", args=[item.pk]),
        {"kind": "call", "outcome": "", "note": ""},
        HTTP_HX_REQUEST="true",
    )
    assert answer.status_code == 200
    row = answer.content.decode().split('<ul class="q-counts"')[0]
    assert row.startswith(f'<li class="q-row q-done" id="item-{item.pk}"')
    assert '<p class="q-notice" role="status">' in row
    assert '<div class="q-actions"><a class="button"' in row  # the lead is still worked
