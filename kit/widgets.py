"""A ``<select>`` rendered in Python.

Django renders a ``Select`` through its form templates, one template per option: about a
tenth of a millisecond each, so the insight filter form, offering a few hundred people and
campaigns, cost more than the numbers it filters once those were cached (insight.answers).
``select_html`` writes the same HTML as Django's ``select.html``, ``select_option.html`` and
``attrs.html``, escaped the same way, but for the blank lines between the tags, without the
template engine, for every select of every form, filter and admin page through ``Renderer``
(the ``FORM_RENDERER``).
"""

from django import forms
from django.forms.renderers import DjangoTemplates
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe


def _attrs(attrs: dict) -> str:
    """Django's ``attrs.html``: ``True`` as a bare name, ``False`` left out."""
    return mark_safe(
        "".join(
            f" {conditional_escape(name)}"
            if value is True
            else f' {conditional_escape(name)}="{conditional_escape(str(value))}"'
            for name, value in attrs.items()
            if value is not False
        )
    )


def select_html(widget: dict) -> str:
    """Django's ``select.html`` for a select widget's context (``widget``): the same HTML."""
    groups = []
    for group_name, options, _ in widget["optgroups"]:
        html = format_html_join(
            "",
            '\n  <option value="{}"{}>{}</option>',
            ((str(o["value"]), _attrs(o["attrs"]), o["label"]) for o in options),
        )
        groups.append(
            format_html('\n  <optgroup label="{}">{}\n  </optgroup>', group_name, html)
            if group_name
            else html
        )
    return format_html(
        '<select name="{}"{}>{}\n</select>',
        widget["name"],
        _attrs(widget["attrs"]),
        mark_safe("".join(groups)),
    )


class Renderer(DjangoTemplates):
    """The project's form renderer (``FORM_RENDERER``): Django's own, except that every widget
    drawn with ``select.html`` (a ``Select``, a ``NullBooleanSelect``, a ``SelectMultiple``, in
    any form, filter or admin page) is written by ``select_html``: its choices cost microseconds
    rather than a template per option."""

    def render(self, template_name, context, request=None):
        if template_name == forms.Select.template_name:
            return select_html(context["widget"])
        return super().render(template_name, context, request)
