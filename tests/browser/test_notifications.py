"""An SDR sees the unread count on the bell, opens the list, opens one notification (it is
marked read and the count drops), and a new one raises the count without a reload."""

import re

import pytest
from playwright.sync_api import expect

from notifications.models import Kind, Notification
from notifications.services import News, notify
from tests.factories import routed_lead

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def news_for_sam(inbound_sdr, other_sdr):
    ada = routed_lead(inbound_sdr, first_name="Ada", last_name="Lovelace", company="Engines Ltd")
    grace = routed_lead(inbound_sdr, first_name="Grace", last_name="Hopper")
    notify(
        [
            News(
                recipient_id=inbound_sdr.pk,
                kind=Kind.ASSIGNED,
                text="Grace Hopper was assigned to you",
                url=grace.get_absolute_url(),
            ),
            News(
                recipient_id=inbound_sdr.pk,
                kind=Kind.REPLY,
                text="Reply from ada@engines.example: Re: your call",
                url=ada.get_absolute_url(),
            ),
        ]
    )
    notify(
        [
            News(
                recipient_id=inbound_sdr.pk,
                kind=Kind.ASSIGNED,
                text="Ada Lovelace was assigned to you",
                url=ada.get_absolute_url(),
            )
        ]
    )
    notify([News(recipient_id=other_sdr.pk, kind=Kind.ASSIGNED, text="Lena's own news", url="/queue/")])
    return ada, grace


def test_the_bell_counts_unread_and_opening_one_marks_it_read(
    page, live_server, login, shot, dialogs, inbound_sdr, news_for_sam
):
    ada, _ = news_for_sam
    login(inbound_sdr)
    badge = page.locator("#bell-count .bell-badge")
    expect(badge).to_have_text(re.compile(r"^3\b"))
    shot("notify_01_bell_1366")

    page.get_by_role("link", name=re.compile(r"^Notifications")).click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    items = page.locator("li.notification")
    expect(items).to_have_count(3)
    expect(page.locator("li.notification.unread")).to_have_count(3)
    expect(page.locator("ol.notifications")).not_to_contain_text("Lena's own news")
    shot("notify_02_list_1366")

    page.get_by_role("link", name="Reply from ada@engines.example: Re: your call").click()
    page.wait_for_url(f"**{ada.get_absolute_url()}")
    expect(badge).to_have_text(re.compile(r"^2\b"))
    assert Notification.objects.get(text__startswith="Reply from").read_at is not None

    # A new one arrives while the page is open: the next poll shows it, without a reload.
    page.evaluate("window.__noReload = true")
    notify(
        [
            News(
                recipient_id=inbound_sdr.pk,
                kind=Kind.ASSIGNED,
                text="Alan Turing was assigned to you",
                url="/queue/",
            )
        ]
    )
    with page.expect_response(lambda r: r.url.endswith("/notifications/bell/")):
        page.evaluate("htmx.trigger('#bell-count', 'refresh')")
    expect(badge).to_have_text(re.compile(r"^3\b"))
    assert page.evaluate("window.__noReload") is True

    # Mark all read from the list: the bell is empty.
    page.goto(f"{live_server.url}/notifications/")
    page.get_by_role("button", name="Mark all read").click()
    expect(page.locator("li.notification.unread")).to_have_count(0)
    expect(page.locator("#bell-count")).to_have_text("")
    shot("notify_03_all_read_1366")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{live_server.url}/notifications/")
    shot("notify_04_list_390")
    page.goto(f"{live_server.url}/notifications/settings/")
    shot("notify_05_settings_390")
    assert dialogs == []
