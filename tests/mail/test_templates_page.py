"""Email templates: shared ones and my own listed; managers and marketing write shared ones,
everyone their own; an unknown merge field is refused on save, a value some recipient lacks
is not (that is the composer's business)."""

import pytest

from mail.models import Template

pytestmark = pytest.mark.django_db

URL = "/mail/templates/"


@pytest.fixture
def shared(manager):
    return Template.objects.create(
        name="First touch",
        subject="Hello {{ lead.first_name }}",
        body="Hi {{ lead.first_name | there }},\n\n{{ sender.name }}",
    )


@pytest.fixture
def sams(inbound_sdr):
    return Template.objects.create(
        name="Sam's follow-up", subject="Following up", body="Hi", owner=inbound_sdr
    )


@pytest.fixture
def lenas(other_sdr):
    return Template.objects.create(name="Lena's secret", subject="Psst", body="Hi", owner=other_sdr)


def form(**changes):
    return {
        "name": "Breakup",
        "subject": "Closing the loop, {{ lead.first_name }}",
        "body": "Hi {{ lead.first_name }},\n\n{{ sender.signature }}",
        **changes,
    }


def test_the_list_shows_the_shared_ones_and_mine_but_not_a_colleagues(
    client_for, inbound_sdr, shared, sams, lenas
):
    html = client_for(inbound_sdr).get(URL).content.decode()
    assert "First touch" in html and "Following up" in html
    assert "Lena" not in html
    # Sam changes their own, not the shared one.
    assert f'href="/mail/templates/{sams.pk}/"' in html
    assert f'href="/mail/templates/{shared.pk}/"' not in html


def test_an_sdr_writes_a_personal_template_and_cannot_share_it(client_for, inbound_sdr):
    sam = client_for(inbound_sdr)
    page = sam.get("/mail/templates/new/").content.decode()
    assert (
        "{{ lead.first_name }}" in page and "{{ sender.signature }}" in page
    )  # the merge fields beside the editor
    assert 'name="shared"' not in page
    answer = sam.post("/mail/templates/new/", form(shared="on"), follow=True)
    assert "Template “Breakup” saved." in answer.content.decode()
    template = Template.objects.get(name="Breakup")
    assert template.owner == inbound_sdr
    assert template.subject == "Closing the loop, {{ lead.first_name }}"


def test_a_manager_writes_a_shared_template_everyone_then_sees(client_for, manager, inbound_sdr):
    answer = client_for(manager).post("/mail/templates/new/", form(shared="on"))
    assert answer.status_code == 302
    template = Template.objects.get(name="Breakup")
    assert template.owner is None and template.created_by == manager
    assert "Breakup" in client_for(inbound_sdr).get(URL).content.decode()


def test_marketing_edits_a_shared_template(client_for, marketing, shared):
    answer = client_for(marketing).post(
        f"/mail/templates/{shared.pk}/", form(name="First touch v2", shared="on")
    )
    assert answer.status_code == 302
    shared.refresh_from_db()
    assert (shared.name, shared.owner) == ("First touch v2", None)


def test_an_sdr_may_not_change_a_shared_template_nor_see_a_colleagues(client_for, inbound_sdr, shared, lenas):
    sam = client_for(inbound_sdr)
    assert sam.get(f"/mail/templates/{shared.pk}/").status_code == 403
    assert sam.post(f"/mail/templates/{shared.pk}/", form()).status_code == 403
    assert sam.post(f"/mail/templates/{shared.pk}/delete/").status_code == 403
    assert sam.get(f"/mail/templates/{lenas.pk}/").status_code == 404
    assert sam.post(f"/mail/templates/{lenas.pk}/delete/").status_code == 404
    shared.refresh_from_db()
    assert shared.name == "First touch"
    assert Template.objects.filter(pk=lenas.pk).exists()


def test_an_unknown_merge_field_is_refused_beside_the_field(client_for, inbound_sdr):
    answer = client_for(inbound_sdr).post(
        "/mail/templates/new/", form(body="Hi {{ lead.nickname }}, {{ lead.first_name }}")
    )
    assert answer.status_code == 400
    errors = answer.context["form"].errors
    assert "Unknown merge field {{ lead.nickname }}" in " ".join(errors["body"])
    assert "Use one of: {{ lead.first_name }}" in " ".join(errors["body"])
    assert not Template.objects.exists()


def test_a_merge_field_some_recipient_lacks_is_not_an_error_when_saving(client_for, inbound_sdr):
    answer = client_for(inbound_sdr).post(
        "/mail/templates/new/", form(subject="{{ lead.title }} at {{ lead.company }}")
    )
    assert answer.status_code == 302


def test_a_template_is_deleted_after_confirming(client_for, inbound_sdr, sams):
    sam = client_for(inbound_sdr)
    confirm = sam.get(f"/mail/templates/{sams.pk}/delete/")
    assert confirm.status_code == 200 and "Delete “Sam&#x27;s follow-up”?" in confirm.content.decode()
    assert Template.objects.filter(pk=sams.pk).exists()
    answer = sam.post(f"/mail/templates/{sams.pk}/delete/", follow=True)
    assert "deleted" in answer.content.decode()
    assert not Template.objects.filter(pk=sams.pk).exists()


def test_empty_and_multi_line_inputs_are_refused(client_for, inbound_sdr):
    answer = client_for(inbound_sdr).post(
        "/mail/templates/new/", form(name="", subject="Hi\r\nBcc: x@y", body="")
    )
    assert answer.status_code == 400
    errors = answer.context["form"].errors
    assert errors["name"] == ["Give the template a name."]
    assert "Use one line of text" in errors["subject"][0]
    assert errors["body"] == ["Write the email."]
