"""Merge fields: the recipient's and the sender's values fill a template; an unknown field or
one with no value stops the send with a message naming it, instead of sending a blank."""

import pytest

from mail import merge
from mail.merge import MergeError

VALUES = {
    "lead.first_name": "Ada",
    "lead.company": "Globex",
    "lead.title": "",
    "sender.name": "Lena Roth",
}


def test_fields_are_replaced_by_the_recipients_and_senders_values():
    rendered = merge.render(
        subject="{{ lead.company }} and Refinery",
        body="Hi {{lead.first_name}},\n\n{{ sender.name }}",
        values=VALUES,
    )
    assert rendered.subject == "Globex and Refinery"
    assert rendered.body == "Hi Ada,\n\nLena Roth"


def test_a_field_without_a_value_refuses_the_send_and_names_the_field():
    with pytest.raises(MergeError) as refused:
        merge.render(subject="Hello", body="As {{ lead.title }} at {{ lead.company }}", values=VALUES)
    assert refused.value.field == "body"
    assert "{{ lead.title }}" in str(refused.value)


def test_a_fallback_fills_an_empty_field():
    assert merge.render_text("Hi {{ lead.title | there }}", VALUES, where="body") == "Hi there"


def test_an_unknown_field_is_refused_with_the_list_of_known_ones():
    with pytest.raises(MergeError) as refused:
        merge.render_text("{{ lead.password }} {{ user.email }}", VALUES, where="subject")
    message = str(refused.value)
    assert refused.value.field == "subject"
    assert "{{ lead.password }}" in message and "{{ user.email }}" in message
    assert "{{ lead.first_name }}" in message  # what to use instead


def test_template_syntax_is_not_evaluated():
    text = "{% load static %}{{ lead.first_name.upper }} {{ settings.SECRET_KEY }}"
    with pytest.raises(MergeError):
        merge.render_text(text, VALUES, where="body")
    assert merge.render_text("{% if x %}{{ lead.first_name }}", VALUES, where="body") == "{% if x %}Ada"
