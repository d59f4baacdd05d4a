"""The notification pages, the bell and the API: each person sees and changes only their own;
a fixed number of queries whatever the number of notifications."""

from datetime import UTC, datetime

import pytest

from notifications.models import Kind, Notification, Preference
from notifications.services import News, notify
from tests.factories import UserFactory, api_token

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen")]

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def give(user, n: int, *, kind=Kind.ASSIGNED, url="/queue/") -> list[Notification]:
    notify(
        [
            News(recipient_id=user.pk, kind=kind, text=f"News {i} for {user.username}", url=url)
            for i in range(n)
        ]
    )
    return list(Notification.objects.filter(recipient=user).order_by("id"))


@pytest.fixture
def sam(db):
    return UserFactory(username="sam", email="sam@example.com")


@pytest.fixture
def lena(db):
    return UserFactory(username="lena")


# --- the list ----------------------------------------------------------------------------------


def test_the_list_shows_my_notifications_newest_first_and_nobody_elses(client_for, sam, lena, frozen):
    give(sam, 1)
    frozen.shift(60)
    notify([News(recipient_id=sam.pk, kind=Kind.REPLY, text="Reply from ada@example.com: Re: hello")])
    give(lena, 1)

    page = client_for(sam).get("/notifications/").content.decode()

    assert page.index("Reply from ada@example.com") < page.index("News 0 for sam")
    assert "for lena" not in page
    assert "Tue 24 Nov 2026, 10:01 CET" in page  # in Sam's zone (his team's Berlin calendar), named


def test_the_list_is_paginated_and_filters_unread(client_for, sam):
    rows = give(sam, 30)
    Notification.objects.filter(pk__in=[r.pk for r in rows[:10]]).update(read_at=NOW)
    client = client_for(sam)

    first = client.get("/notifications/").content.decode()
    assert "News 29 for sam" in first and "News 4 for sam" not in first and "Page 1 of 2" in first
    assert "News 4 for sam" in client.get("/notifications/?page=2").content.decode()
    unread = client.get("/notifications/?unread=true").content.decode()
    assert "News 10 for sam" in unread and "News 9 for sam" not in unread


@pytest.mark.parametrize("bad", ["?page=x", "?page=99999999999999999999", "?unread=maybe", "?kind=nope"])
def test_bad_list_parameters_are_not_an_error(client_for, sam, bad):
    give(sam, 2)
    assert client_for(sam).get(f"/notifications/{bad}").status_code == 200


def test_the_list_costs_the_same_queries_for_3_or_60_notifications(
    client_for, sam, django_assert_num_queries
):
    client = client_for(sam)
    give(sam, 3)
    with django_assert_num_queries(4):  # session, user with their zone, count, page
        assert client.get("/notifications/").status_code == 200
    give(sam, 57)
    with django_assert_num_queries(4):
        assert client.get("/notifications/").status_code == 200


def test_signed_out_visitors_are_sent_to_the_login(client):
    for url in [
        "/notifications/",
        "/notifications/bell/",
        "/notifications/settings/",
        "/notifications/1/open/",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- opening and marking read -----------------------------------------------------------------


def test_opening_one_marks_it_read_and_goes_to_its_page(client_for, sam):
    [n] = give(sam, 1, url="/leads/42/")

    response = client_for(sam).get(f"/notifications/{n.pk}/open/")

    assert (response.status_code, response["Location"]) == (302, "/leads/42/")
    n.refresh_from_db()
    assert n.read_at == NOW


def test_opening_one_without_a_page_goes_to_the_list(client_for, sam):
    [n] = give(sam, 1, url="https://evil.example/")  # not kept: only paths inside Refinery
    response = client_for(sam).get(f"/notifications/{n.pk}/open/")
    assert response["Location"] == "/notifications/"


def test_someone_elses_notification_is_not_found_and_stays_unread(client_for, sam, lena):
    [n] = give(lena, 1)
    client = client_for(sam)

    assert client.get(f"/notifications/{n.pk}/open/").status_code == 404
    assert client.post(f"/notifications/{n.pk}/read/").status_code == 404
    n.refresh_from_db()
    assert n.read_at is None


def test_marking_one_and_all_read(client_for, sam, lena):
    mine = give(sam, 3)
    [hers] = give(lena, 1)
    client = client_for(sam)

    response = client.post(f"/notifications/{mine[0].pk}/read/", {"next": "/notifications/?unread=true"})
    assert response["Location"] == "/notifications/?unread=true"
    assert Notification.objects.filter(recipient=sam, read_at__isnull=True).count() == 2

    response = client.post("/notifications/read-all/", {"next": "https://evil.example/"})
    assert response["Location"] == "/notifications/"
    assert not Notification.objects.filter(recipient=sam, read_at__isnull=True).exists()
    hers.refresh_from_db()
    assert hers.read_at is None


def test_marking_read_is_a_post(client_for, sam):
    [n] = give(sam, 1)
    assert client_for(sam).get(f"/notifications/{n.pk}/read/").status_code == 405


# --- the bell --------------------------------------------------------------------------------


def test_every_page_has_the_bell_polling_the_unread_count(client_for, sam):
    page = client_for(sam).get("/notifications/settings/").content.decode()
    assert 'hx-get="/notifications/bell/"' in page and "js/notifications.js" in page


def test_the_bell_counts_my_unread_and_answers_304_while_nothing_changes(client_for, sam, lena):
    give(sam, 3)
    give(lena, 5)
    client = client_for(sam)

    first = client.get("/notifications/bell/", HTTP_HX_REQUEST="true")
    assert first.status_code == 200 and 'data-unread="3"' in first.content.decode()
    assert first["Cache-Control"] == "private, no-cache"

    again = client.get("/notifications/bell/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""

    give(sam, 1)
    changed = client.get("/notifications/bell/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and 'data-unread="4"' in changed.content.decode()

    client.post("/notifications/read-all/")
    empty = client.get("/notifications/bell/")
    assert empty.status_code == 200 and "data-unread" not in empty.content.decode()


def test_the_bell_is_one_query_for_1_or_100_unread(client_for, sam, django_assert_num_queries):
    client = client_for(sam)
    give(sam, 1)
    with django_assert_num_queries(3):  # session, user, the count
        client.get("/notifications/bell/")
    give(sam, 99)
    with django_assert_num_queries(3):
        response = client.get("/notifications/bell/")
    assert 'data-unread="100"' in response.content.decode()


def test_another_persons_etag_does_not_match_mine(client_for, sam, lena):
    give(sam, 2)
    give(lena, 2)
    lenas = client_for(lena).get("/notifications/bell/")["ETag"]
    assert client_for(sam).get("/notifications/bell/", HTTP_IF_NONE_MATCH=lenas).status_code == 200


# --- the email choice ------------------------------------------------------------------------


def test_the_email_choice_starts_from_the_defaults_and_is_saved(client_for, sam):
    client = client_for(sam)
    form = client.get("/notifications/settings/").context["form"]
    assert sorted(form.initial["email_kinds"]) == ["handoff_answered", "sla_warning"]
    assert not Preference.objects.exists()

    response = client.post("/notifications/settings/", {"email_kinds": ["reply", "assigned"]})

    assert response.status_code == 302
    assert Preference.objects.get(user=sam).email_kinds == ["assigned", "reply"]


def test_an_unknown_kind_is_a_form_error_and_nothing_is_saved(client_for, sam):
    response = client_for(sam).post("/notifications/settings/", {"email_kinds": ["reply", "gossip"]})
    assert response.status_code == 400
    assert "gossip is not one of the available choices" in response.content.decode()
    assert not Preference.objects.exists()


def test_choosing_nothing_turns_every_email_off(client_for, sam):
    client_for(sam).post("/notifications/settings/", {})
    assert Preference.objects.get(user=sam).email_kinds == []


# --- the API ---------------------------------------------------------------------------------


def test_the_api_lists_only_my_notifications(client, sam, lena, django_assert_num_queries):
    give(sam, 2)
    give(lena, 3)
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token(sam)}"}

    body = client.get("/api/v1/notifications/", **headers).json()

    assert body["count"] == 2
    assert {row["text"] for row in body["results"]} == {"News 0 for sam", "News 1 for sam"}
    assert body["results"][0]["url"] == "http://testserver/queue/"
    assert body["results"][0]["read"] is False


def test_the_api_list_costs_the_same_queries_for_2_or_40(client, sam, django_assert_num_queries):
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token(sam)}"}
    give(sam, 2)
    client.get("/api/v1/notifications/", **headers)  # the token's first use is written once
    with django_assert_num_queries(3):  # the token, the count, the page
        client.get("/api/v1/notifications/", **headers)
    give(sam, 38)
    with django_assert_num_queries(3):
        assert client.get("/api/v1/notifications/?unread=true", **headers).json()["count"] == 40


def test_the_api_marks_one_and_all_read(client, sam, lena):
    mine = give(sam, 3)
    [hers] = give(lena, 1)
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token(sam)}"}

    one = client.post(f"/api/v1/notifications/{mine[0].pk}/read/", **headers)
    assert one.status_code == 200 and one.json()["read"] is True and one.json()["read_at"]

    assert client.post(f"/api/v1/notifications/{hers.pk}/read/", **headers).status_code == 404
    assert client.get(f"/api/v1/notifications/{hers.pk}/", **headers).status_code == 404

    assert client.post("/api/v1/notifications/read-all/", **headers).json() == {"marked_read": 2}
    hers.refresh_from_db()
    assert hers.read_at is None


def test_the_api_refuses_a_bad_filter_with_its_field(client, sam):
    headers = {"HTTP_AUTHORIZATION": f"Token {api_token(sam)}"}
    response = client.get("/api/v1/notifications/?kind=gossip", **headers)
    assert response.status_code == 400 and "kind" in response.json()


# --- the admin -------------------------------------------------------------------------------


def test_ops_set_the_warning_share_on_an_sla_policy(admin_client):
    from work.models import SlaPolicy

    policy = SlaPolicy.objects.get(key=SlaPolicy.FIRST_TOUCH_MQL)
    assert policy.warn_at_share == 0.75
    url = f"/admin/work/slapolicy/{policy.pk}/change/"
    form = {
        "name": policy.name,
        "target_minutes": policy.target_minutes,
        "mode": policy.mode,
        "escalate_to_manager": "on",
        "reassign_after_minutes": "",
    }

    refused = admin_client.post(url, {**form, "warn_at_share": "1.5"})
    assert refused.status_code == 200 and "less than or equal to 0.99" in refused.content.decode()

    assert admin_client.post(url, {**form, "warn_at_share": "0.5"}).status_code == 302
    policy.refresh_from_db()
    assert policy.warn_at_share == 0.5
    assert admin_client.get("/admin/notifications/notification/").status_code == 200
