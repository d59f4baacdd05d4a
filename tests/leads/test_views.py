import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from leads.models import Lead
from leads.services import capture_lead
from tests.factories import CampaignFactory, LeadFactory


@pytest.mark.django_db
def test_pages_need_a_login(client):
    lead = LeadFactory()
    for url in [reverse("leads:list"), lead.get_absolute_url(), reverse("leads:imports"), reverse("home")]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_login_and_logout(client, manager):
    response = client.post("/login/", {"username": "maria", "password": "pw"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("work:breaches")  # managers land on the review
    assert client.post("/logout/").status_code == 302
    assert client.get(reverse("leads:list")).status_code == 302


@pytest.mark.django_db
def test_wrong_password_shows_an_error(client, manager):
    response = client.post("/login/", {"username": "maria", "password": "nope"})
    assert response.status_code == 200 and "correct username and password" in response.content.decode()


@pytest.mark.django_db
def test_list_filters_search_and_sorts(client_for, manager):
    google = CampaignFactory(name="Google")
    a = LeadFactory(first_name="Zoe", company="Zeta", fit_grade="A", campaign=google, status="mql")
    LeadFactory(first_name="Bob", company="Other", fit_grade="C")
    client = client_for(manager)

    body = client.get(reverse("leads:list"), {"q": "zeta"}).content.decode()
    assert "Zoe" in body and "Bob" not in body
    body = client.get(
        reverse("leads:list"), {"status": "mql", "campaign": google.pk, "sort": "grade"}
    ).content.decode()
    assert a.email in body and "1 lead" in body


@pytest.mark.django_db
def test_htmx_request_gets_only_the_table(client_for, manager):
    LeadFactory()
    response = client_for(manager).get(reverse("leads:list"), {"q": "x"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<table" in body and "<html" not in body


@pytest.mark.django_db
def test_bad_filter_shows_an_error_not_a_crash(client_for, manager):
    response = client_for(manager).get(reverse("leads:list"), {"captured_after": "garbage", "status": "nope"})
    assert response.status_code == 200
    assert "errors" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [1, 15, 60])
def test_list_page_issues_a_fixed_number_of_queries(client_for, manager, django_assert_num_queries, size):
    campaign = CampaignFactory()
    LeadFactory.create_batch(size, campaign=campaign, owner=manager)
    client = client_for(manager)
    # session, user, saved views, campaigns and owners for the filter form, count, page,
    # scoring settings
    with django_assert_num_queries(8):
        response = client.get(reverse("leads:list"), {"sort": "grade"})
    assert response.status_code == 200
    assert response.content.decode().count('class="grade grade-D">D4<') == min(size, 50)


@pytest.mark.django_db
def test_list_counts_up_to_a_limit_and_says_so(client_for, manager, monkeypatch, django_assert_num_queries):
    """Past the limit the list says "N+" and pages only through the first N: a list of a
    million leads is not counted on every view."""
    from leads.views import leads as views

    monkeypatch.setattr(views, "COUNT_LIMIT", 3)
    monkeypatch.setattr(views, "LEADS_PER_PAGE", 2)
    LeadFactory.create_batch(5, owner=manager)
    client = client_for(manager)
    with django_assert_num_queries(8):
        body = client.get(reverse("leads:list")).content.decode()
    assert "3+ leads (the list pages through the first 3" in body
    assert "All 3+ leads matching the filter" in body
    assert "Page 1 of 2+" in body
    last = client.get(reverse("leads:list"), {"page": 9}).content.decode()
    assert "Page 2 of 2+" in last and "Next" not in last

    # At or under the limit the count is exact and says nothing more.
    body = client.get(
        reverse("leads:list"), {"q": Lead.objects.order_by("pk").first().email}
    ).content.decode()
    assert "1 lead ·" in body and "+" not in re.search(r"(\S+) lead ·", body).group(1)


@pytest.mark.django_db
@pytest.mark.parametrize("activities", [1, 10, 40])
def test_detail_page_issues_a_fixed_number_of_queries(
    client_for, manager, profile, django_assert_num_queries, activities
):
    lead = capture_lead(email="a@b.example", details={}, via="api").lead
    for _ in range(activities - 1):
        capture_lead(email="a@b.example", details={}, via="api")
    client = client_for(manager)
    ContentType.objects.get_for_model(Lead)  # cached per process after its first use
    # session, user, lead, settings, profile, criteria, events, activities, work items, its
    # tags and its imports (provenance), and whether the manager may email the lead (the teams
    # they manage and their members)
    with django_assert_num_queries(12):
        response = client.get(lead.get_absolute_url())
    assert response.status_code == 200
    assert response.content.decode().count('class="tl-activity') == activities


@pytest.mark.django_db
def test_detail_shows_timeline_and_score_explanation(client_for, manager, profile, campaign):
    lead = capture_lead(
        email="a@b.example",
        via="web_form",
        campaign=campaign,
        details={"industry": "Technology", "company": "<b>Bold</b> Inc"},
    ).lead
    body = client_for(manager).get(lead.get_absolute_url()).content.decode()

    assert "Why this score" in body and "Industry: Technology, Financial Services" in body
    assert "Form filled" in body and "Captured" in body and campaign.name in body
    assert "&lt;b&gt;Bold&lt;/b&gt; Inc" in body and "<b>Bold</b>" not in body


@pytest.mark.django_db
def test_logging_an_activity_with_htmx_updates_the_panel(client_for, manager):
    lead = LeadFactory()
    response = client_for(manager).post(
        reverse("leads:log_activity", args=[lead.pk]),
        {"kind": "demo_view", "note": "watched twice"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and "watched twice" in body
    assert lead.activities.get().kind == "demo_view"


@pytest.mark.django_db
def test_invalid_activity_is_a_form_error(client_for, manager):
    lead = LeadFactory()
    response = client_for(manager).post(reverse("leads:log_activity", args=[lead.pk]), {"kind": "teleport"})
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    assert not lead.activities.exists()


@pytest.mark.django_db
def test_rating_from_the_page(client_for, manager):
    lead = LeadFactory()
    response = client_for(manager).post(reverse("leads:set_rating", args=[lead.pk]), {"rating": "B"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.rating == "B" and lead.events.get().kind == "rated"


@pytest.mark.django_db
def test_sdr_sees_own_leads_only(client_for, inbound_sdr, other_sdr):
    mine, theirs = (
        LeadFactory(owner=inbound_sdr, first_name="Mine"),
        LeadFactory(owner=other_sdr, first_name="Theirs"),
    )
    client = client_for(inbound_sdr)
    body = client.get(reverse("leads:list")).content.decode()
    assert mine.email in body and theirs.email not in body
    assert client.get(theirs.get_absolute_url()).status_code == 404
    assert client.post(reverse("leads:set_rating", args=[theirs.pk]), {"rating": "A"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.rating == ""


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["ae", "am"])
def test_aes_and_ams_get_no_lead_pages(client_for, request, role):
    lead = LeadFactory()
    client = client_for(request.getfixturevalue(role))
    assert client.get(reverse("leads:list")).status_code == 403
    assert client.get(lead.get_absolute_url()).status_code == 403
    assert client.get(reverse("home"), follow=True).status_code == 200  # their own landing page


@pytest.mark.django_db
def test_only_marketing_and_managers_import(client_for, inbound_sdr, marketing):
    assert client_for(inbound_sdr).get(reverse("leads:imports")).status_code == 403
    assert client_for(marketing).get(reverse("leads:imports")).status_code == 200


@pytest.mark.django_db
def test_unknown_lead_is_404(client_for, manager):
    assert client_for(manager).get("/leads/999999/").status_code == 404
    assert Lead.objects.count() == 0


@pytest.mark.django_db
def test_list_filters_offer_each_option_once(client_for, manager):
    body = client_for(manager).get(reverse("leads:list")).content.decode()

    hand_raiser = re.search(r'<select name="hand_raiser".*?</select>', body, re.S).group(0)
    assert re.findall(r">([^<]*)</option>", hand_raiser) == ["Any", "Yes", "No"]
    sort = re.search(r'<select name="sort".*?</select>', body, re.S).group(0)
    # Newest first: the browser shows it when nobody chose, and the list is sorted by it then.
    assert re.findall(r">([^<]*)</option>", sort) == ["Newest", "Grade", "Engagement", "Oldest", "Fit"]


@pytest.mark.django_db
def test_boolean_filters_still_take_1_and_0(client_for, manager):
    LeadFactory(email="raised@x.example", hand_raiser=True)
    LeadFactory(email="quiet@x.example", hand_raiser=False)
    client = client_for(manager)

    for yes, no in (("1", "0"), ("true", "false")):
        body = client.get(reverse("leads:list"), {"hand_raiser": yes}).content.decode()
        assert "raised@x.example" in body and "quiet@x.example" not in body
        body = client.get(reverse("leads:list"), {"hand_raiser": no}).content.decode()
        assert "quiet@x.example" in body and "raised@x.example" not in body
