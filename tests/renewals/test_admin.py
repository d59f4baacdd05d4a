"""The renewals admin: the windows are edited there (one row, a reminder inside the opening);
contracts and the timeline are read there, and every page opens."""

from datetime import UTC, date, datetime

import pytest

from renewals.models import AccountEvent, RenewalSettings
from renewals.services import run_renewals
from tests.factories import contract, customer

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 5, 1, 6, tzinfo=UTC)


def test_every_renewals_admin_page_opens(admin_client, am):
    term = contract(customer(am), end=date(2026, 6, 30), now=NOW)
    run_renewals(now=NOW)
    pages = [
        "/admin/renewals/renewalsettings/",
        "/admin/renewals/renewalsettings/1/change/",
        "/admin/renewals/contract/",
        "/admin/renewals/contract/?status__exact=active",
        f"/admin/renewals/contract/{term.pk}/change/",
        "/admin/renewals/accountevent/",
        f"/admin/renewals/accountevent/{AccountEvent.objects.first().pk}/change/",
        f"/admin/accounts/account/{term.account_id}/change/",
    ]
    for page in pages:
        assert admin_client.get(page).status_code == 200, page


def test_the_windows_are_edited_and_a_reminder_outside_the_opening_is_refused(admin_client):
    url = "/admin/renewals/renewalsettings/1/change/"
    response = admin_client.post(url, {"start_days": 30, "reminder_days": 45, "term_months": 12})
    assert response.status_code == 200 and "fewer days than the start" in response.content.decode()
    assert RenewalSettings.load().start_days == 60

    admin_client.post(url, {"start_days": 90, "reminder_days": 14, "term_months": 24})
    windows = RenewalSettings.load()
    assert (windows.start_days, windows.reminder_days, windows.term_months) == (90, 14, 24)
    assert admin_client.get("/admin/renewals/renewalsettings/add/").status_code == 403
