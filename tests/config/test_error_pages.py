"""403, 404 and 500 pages: the navigation and a plain reason; under /api/ JSON as before."""

import pytest
from django.db import connections
from django.test import Client


def nav_links(page: str) -> str:
    import re

    nav = re.search(r"<nav.*?</nav>", page, re.S)
    return nav.group(0) if nav else ""


@pytest.mark.django_db
def test_a_page_that_is_not_there_says_so_with_the_navigation(client_for, inbound_sdr):
    response = client_for(inbound_sdr).get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "This page isn" in page and "There is no page at this address." in page
    assert 'href="/queue/">Queue</a>' in nav_links(page)
    assert "Go to your start page" in page


@pytest.mark.django_db
def test_a_missing_record_gives_the_apps_own_reason(client_for, marketing):
    response = client_for(marketing).get("/leads/999999/")
    assert response.status_code == 404
    assert "No such lead." in response.content.decode()


@pytest.mark.django_db
def test_signed_out_a_missing_page_offers_to_sign_in(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "There is no page at this address." in page
    assert 'href="/login/?next=/no/such/page/"' in page


@pytest.mark.django_db
def test_a_refused_page_says_why_and_where_to_go_instead(client_for, ae):
    response = client_for(ae).get("/opportunities/early-losses/")
    assert response.status_code == 403
    page = response.content.decode()
    assert "You can" in page and "Early losses are for managers." in page
    assert 'href="/">Go to your start page</a>' in page
    assert 'href="/inbox/">Inbox</a>' in nav_links(page)


@pytest.mark.django_db
def test_signed_out_a_refused_page_offers_to_sign_in(rf):
    # Pages ask a signed-out person to sign in before any access check; the handler still
    # answers one who meets a refusal with the page and a way in.
    from django.contrib.auth.models import AnonymousUser
    from django.core.exceptions import PermissionDenied

    from kit.api_errors import permission_denied

    request = rf.get("/insight/")
    request.user = AnonymousUser()
    response = permission_denied(request, PermissionDenied())
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your role does not give you access to this page." in page
    assert 'href="/login/?next=/insight/"' in page


@pytest.mark.django_db
def test_the_api_keeps_answering_json(client_for, ae):
    client = client_for(ae)
    assert client.get("/api/v1/leads/999999/").json()["detail"]
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"


@pytest.mark.django_db
def test_a_refusal_without_a_message_gives_a_plain_one(client_for, ae):
    response = client_for(ae).get("/leads/")  # AEs never see raw leads
    assert response.status_code == 403
    assert "Your role does not give you access to this page." in response.content.decode()


@pytest.mark.django_db
def test_a_server_error_shows_a_plain_page_with_a_minimal_navigation(client_for, marketing, monkeypatch):
    from leads.views import leads as lead_views

    def boom(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(lead_views, "render", boom)
    client = client_for(marketing)
    client.raise_request_exception = False
    response = client.get("/leads/")
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert 'href="/">Start page</a>' in nav_links(page)
    assert "a bug" not in page


def test_the_server_error_page_renders_with_the_database_unreachable(django_db_blocker, settings):
    """No database at all: the session cannot be read, the page still says what happened."""
    settings.DEBUG = False
    with django_db_blocker.unblock():
        connection = connections["default"]
        saved = dict(connection.settings_dict)
        connection.close()
        connection.settings_dict.update(
            {"HOST": "127.0.0.1", "PORT": "1"}
            if connection.vendor == "postgresql"
            else {"NAME": "/nonexistent/db.sqlite3"}
        )
        try:
            client = Client(raise_request_exception=False)
            client.cookies["sessionid"] = "a-session-the-database-would-know"
            response = client.get("/queue/")
        finally:
            connection.close()
            connection.settings_dict.clear()
            connection.settings_dict.update(saved)
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page
    assert 'href="/">Start page</a>' in page
