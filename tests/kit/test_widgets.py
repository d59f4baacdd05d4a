"""Every <select> is written in Python (``kit.widgets``: the ``FORM_RENDERER``),
and a browser receives exactly the HTML Django's own templates write: the same options, the
chosen one selected, groups, attributes, and names and labels escaped (only the blank lines
between the tags differ)."""

import re

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates

from kit.widgets import Renderer

CHOICES = [
    ("", "Any"),
    ("a", 'Ann & "Bob" <b>'),
    ("Teams", [(1, "North"), (2, "South <west>")]),
    (3, "Three"),
]


class Choices(forms.Form):
    one = forms.ChoiceField(choices=CHOICES, required=False)
    many = forms.MultipleChoiceField(choices=CHOICES, required=False)
    maybe = forms.NullBooleanField(required=False)
    disabled = forms.ChoiceField(choices=CHOICES, disabled=True, required=False)
    labelled = forms.ChoiceField(
        choices=CHOICES, widget=forms.Select(attrs={"aria-label": "Who & why", "data-x": True})
    )


def tags(html: str) -> str:
    """The HTML without the white space between its tags (a browser ignores it in a select)."""
    return re.sub(r">\s+<", "><", html)


DATA = {"one": "a", "many": ["2", "3"], "maybe": "false", "disabled": "", "labelled": "1"}


@pytest.mark.parametrize("name", ["one", "many", "maybe", "disabled", "labelled"])
@pytest.mark.parametrize("data", [DATA, None], ids=["chosen", "unbound"])
def test_the_renderer_writes_what_djangos_templates_write(name, data):
    django_html = str(Choices(data, renderer=DjangoTemplates())[name])
    ours = str(Choices(data, renderer=Renderer())[name])
    assert tags(ours) == tags(django_html)
    assert "<select" in ours


def test_the_project_renders_selects_through_it(settings):
    assert settings.FORM_RENDERER == "kit.widgets.Renderer"
    html = str(Choices(DATA)["one"])
    assert '<option value="a" selected>Ann &amp; &quot;Bob&quot; &lt;b&gt;</option>' in html
    assert '<optgroup label="Teams">' in html
