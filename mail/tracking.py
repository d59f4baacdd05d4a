"""Signed links in outgoing email: the open pixel, tracked clicks and the one-click
unsubscribe.

Every token is signed with the installation's secret (``django.core.signing``) under a salt of
its own, so a token for one purpose is worthless for another. A click token carries the
original URL inside the signature: the redirect goes only where the email's link pointed,
never to a URL a visitor supplies (no open redirect).
"""

import re
from html import escape

from django.conf import settings
from django.core import signing
from django.urls import reverse

OPEN_SALT = "mail.open"
CLICK_SALT = "mail.click"
UNSUBSCRIBE_SALT = "mail.unsubscribe"

# Links in a plain-text body: http(s) URLs up to whitespace or a closing bracket.
URL = re.compile(r"https?://[^\s<>\"')\]]+")


def tracking_enabled() -> bool:
    return bool(getattr(settings, "MAIL_TRACKING", True))


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def _ours(url: str) -> bool:
    return url.startswith(settings.SITE_URL.rstrip("/") + "/m/")


def open_token(message_id: int) -> str:
    return signing.dumps(message_id, salt=OPEN_SALT)


def click_token(message_id: int, url: str) -> str:
    return signing.dumps({"m": message_id, "u": url}, salt=CLICK_SALT, compress=True)


def unsubscribe_token(message_id: int) -> str:
    return signing.dumps(message_id, salt=UNSUBSCRIBE_SALT)


def read_open(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=OPEN_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def read_click(token: str) -> tuple[int, str] | None:
    try:
        value = signing.loads(token, salt=CLICK_SALT)
    except signing.BadSignature:
        return None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("m"), int)
        or not isinstance(value.get("u"), str)
    ):
        return None
    if not URL.fullmatch(value["u"]):
        return None
    return value["m"], value["u"]


def read_unsubscribe(token: str) -> int | None:
    try:
        value = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    return value if isinstance(value, int) else None


def open_url(message_id: int) -> str:
    return _absolute(reverse("mail:open", args=[open_token(message_id)]))


def click_url(message_id: int, url: str) -> str:
    return _absolute(reverse("mail:click", args=[click_token(message_id, url)]))


def unsubscribe_url(message_id: int) -> str:
    return _absolute(reverse("mail:unsubscribe", args=[unsubscribe_token(message_id)]))


def html_body(text: str, *, message_id: int, track: bool) -> str:
    """The HTML alternative of a plain-text body: paragraphs and line breaks kept, links made
    clickable (through the click redirect when ``track``), and the open pixel at the end."""

    def link(match: re.Match) -> str:
        url = match.group(0)
        # Our own links (the unsubscribe footer) are never tracked: unsubscribing is not
        # engagement, and the recipient must see where it goes.
        href = click_url(message_id, url) if track and not _ours(url) else url
        return f'<a href="{escape(href)}">{escape(url)}</a>'

    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        pieces, last = [], 0
        for match in URL.finditer(block):
            pieces.append(escape(block[last : match.start()]))
            pieces.append(link(match))
            last = match.end()
        pieces.append(escape(block[last:]))
        paragraphs.append("<p>" + "".join(pieces).replace("\n", "<br>\n") + "</p>")
    pixel = (
        f'<img src="{escape(open_url(message_id))}" width="1" height="1" alt="" style="display:none">'
        if track
        else ""
    )
    return "<!doctype html>\n<html><body>\n" + "\n".join(paragraphs) + pixel + "\n</body></html>\n"
