"""Read a page's forms as a browser would: their action, method and the values a browser would
submit as they stand (hidden inputs, checked boxes and radios, the selected option, textareas),
so the load test fills in only what a person types and the rest is the page's own (the CSRF
token, the defaults a view prefilled). The standard library's parser; no dependency."""

from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Form:
    action: str
    method: str
    attrs: dict[str, str]
    fields: dict[str, str] = field(default_factory=dict)
    # select name -> its option values, in order (to choose another one)
    options: dict[str, list[str]] = field(default_factory=dict)
    # radio name -> its values
    radios: dict[str, list[str]] = field(default_factory=dict)
    # submit buttons: (name, value)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def values(self, **overrides: str) -> dict[str, str]:
        return {**self.fields, **overrides}


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: (v if v is not None else "") for k, v in attrs_list}
        if tag == "form":
            self._form = Form(
                action=attrs.get("action", ""), method=attrs.get("method", "get").lower(), attrs=attrs
            )
            self.forms.append(self._form)
            return
        form = self._form
        if form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if kind == "radio":
                    form.radios.setdefault(name, []).append(attrs.get("value", "on"))
                if "checked" in attrs:
                    form.fields[name] = attrs.get("value", "on")
            elif kind == "submit":
                form.buttons.append((name, attrs.get("value", "")))
            elif kind not in ("file", "button", "reset", "image") and "disabled" not in attrs:
                form.fields[name] = attrs.get("value", "")
        elif tag == "button" and name and attrs.get("type", "submit") == "submit":
            form.buttons.append((name, attrs.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_first, self._select_chosen = name, None, False
            form.options[name] = []
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            form.options[self._select].append(value)
            if self._select_first is None:
                self._select_first = value
            if "selected" in attrs:
                form.fields[self._select] = value
                self._select_chosen = True
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            if not self._select_chosen and self._select_first is not None:
                self._form.fields[self._select] = self._select_first
            self._select = None
        elif tag == "textarea" and self._textarea is not None and self._form is not None:
            self._form.fields[self._textarea] = "".join(self._text).removeprefix("\n")
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    parser.close()
    return parser.forms


def find_form(html: str, *, action_contains: str = "", form_id: str = "") -> Form | None:
    """The first form whose action contains ``action_contains`` (and whose id is ``form_id``,
    when given)."""
    for form in forms(html):
        if action_contains and action_contains not in form.action:
            continue
        if form_id and form.attrs.get("id") != form_id:
            continue
        return form
    return None
