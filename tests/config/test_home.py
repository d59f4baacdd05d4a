import pytest
from django.urls import reverse


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "landing"),
    [
        ("inbound_sdr", "sdr:queue"),
        ("outbound_sdr", "sdr:queue"),
        ("ae", "accounts:inbox"),
        ("am", "renewals:renewals"),
        ("manager", "work:breaches"),
        ("marketing", "leads:list"),
    ],
)
def test_each_role_lands_where_it_works(client_for, request, role, landing):
    response = client_for(request.getfixturevalue(role)).get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse(landing)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        ("ae", ["Inbox", "Pipeline"], ["Queue", "Targets", "Early losses", "Breaches", "Renewals"]),
        ("outbound_sdr", ["Queue", "Targets"], ["Inbox", "Pipeline", "Early losses", "Renewals"]),
        ("inbound_sdr", ["Queue"], ["Inbox", "Pipeline", "Targets", "Early losses", "Renewals"]),
        ("manager", ["Breaches", "Pipeline", "Early losses", "Targets", "Renewals"], ["Inbox"]),
        ("am_manager", ["Breaches", "Renewals"], ["Inbox"]),
        ("am", ["Renewals"], ["Queue", "Inbox", "Pipeline", "Targets", "Breaches", "Leads"]),
        ("marketing", ["Leads"], ["Renewals", "Inbox", "Queue"]),
    ],
)
def test_the_navigation_shows_each_role_its_pages(client_for, request, role, shown, hidden):
    import re

    page = client_for(request.getfixturevalue(role)).get(reverse("home"), follow=True).content.decode()
    nav = re.search(r"<nav.*?</nav>", page, re.S).group(0)
    links = re.findall(r">([^<>]+)</a>", nav)
    assert all(name in links for name in shown), links
    assert not any(name in links for name in hidden), links


@pytest.mark.django_db
def test_marketing_lands_on_the_leads_even_as_a_superuser(admin_client):
    # Ops (marketing, superuser) would otherwise land on the managers' breach review.
    response = admin_client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("leads:list")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_the_api_docs_link_back_into_the_app(client_for, marketing, path):
    page = client_for(marketing).get(path).content.decode()
    assert '<a id="back-to-refinery" href="/">← Back to Refinery</a>' in page
