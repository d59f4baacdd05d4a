"""Every account a demo AM manages can be reached from a page: the accounts list links each
(the renewals page shows only those with a renewal due within 90 days, which left some of
them, former customers and renewals further out, reachable from nowhere)."""

import re

import pytest

from accounts.models import Account
from team.models import User

pytestmark = pytest.mark.django_db


def _linked_accounts(client, url: str) -> set[int]:
    ids: set[int] = set()
    while url:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        ids |= {int(pk) for pk in re.findall(r'href="/accounts/(\d+)/"', html)}
        following = re.search(r'<a href="(\?[^"]*page=\d+)"[^>]*>Next', html)
        url = "/accounts/" + following.group(1).replace("&amp;", "&") if following else ""
    return ids


def test_every_account_of_a_demo_am_is_linked_from_their_accounts_list(seeded, client):
    for am in ("casey", "riley"):  # one seeding for both: it is the slow part
        user = User.objects.get(username=am)
        managed = set(Account.objects.filter(account_manager=user).values_list("pk", flat=True))
        assert len(managed) >= 8
        client.force_login(user)
        renewals = client.get("/renewals/").content.decode()
        assert managed - {int(pk) for pk in re.findall(r'href="/accounts/(\d+)/"', renewals)}, (
            f"{am}: every account is on the renewals page, so this test proves nothing"
        )
        assert managed <= _linked_accounts(client, "/accounts/"), am
