"""What a message read from a mailbox is: the few facts the poller needs from a raw RFC 5322
message (its Message-ID and the ones it answers, who wrote it and to whom, its subject and
date), what kind it is (a person's reply, an automatic reply, a bounce) and its text.

Pure functions over bytes, no database: ``mail.services.polling`` matches the facts to leads
and records them. Headers are read with the ``compat32`` policy (tolerant of the malformed
headers real mail carries, and several times faster than the modern policy); the whole
message is parsed only for what is kept (its text) or for a bounce (its report).
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.message import Message as ParsedMessage
from email.parser import BytesHeaderParser, BytesParser, HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser

REPLY = "reply"
AUTO_REPLY = "auto_reply"
BOUNCE = "bounce"

BODY_LIMIT = 10_000  # characters of a reply's text kept (the timeline shows the first 2,000)
FIELD_LIMIT = 255  # Message.message_id and in_reply_to

MESSAGE_ID = re.compile(r"<[^<>\s]+>")
ADDRESS = re.compile(r"[A-Za-z0-9._%+'=-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# RFC 3834 asks automatic responders to say so in Auto-Submitted; older ones use these.
AUTO_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Autoresponder", "X-Auto-Reply")
AUTO_PRECEDENCE = {"auto_reply", "bulk", "junk", "list"}
# Exchange marks its out-of-office replies so that other responders do not answer them.
SUPPRESS_TOKENS = {"all", "oof", "autoreply"}
AUTO_SUBJECT = re.compile(
    r"^\s*(automatic reply|auto[- ]?reply|autoresponse|out of (the )?office|abwesenheitsnotiz"
    r"|réponse automatique|respuesta automática|risposta automatica)\b",
    re.IGNORECASE,
)
DAEMONS = {"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"}
BOUNCE_SUBJECT = re.compile(
    r"(undeliver|undelivered|returned mail|delivery status notification|delivery failure"
    r"|delivery has failed|mail delivery failed|failure notice|could not be delivered|non remis)",
    re.IGNORECASE,
)
DELAY_SUBJECT = re.compile(r"\b(delayed|delay|warning|still being retried)\b", re.IGNORECASE)
SMTP_REPLY = re.compile(r"\b[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b[^\n]*")
QUOTE_HEADER = re.compile(
    r"^(On\b[^\n]*(\n[^\n]*)?\bwrote:|Am\b[^\n]*(\n[^\n]*)?\bschrieb[^\n]*:|Le\b[^\n]*(\n[^\n]*)?\ba écrit\s*:"
    r"|-{2,}\s*Original Message\s*-{2,}|_{10,}\s*$\n^From:)\s*$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Bounce:
    """What a delivery status notification says: whether delivery failed for good (a delay
    warning does not), to whom, the returned message's Message-ID, and the server's answer."""

    failed: bool
    recipients: tuple[str, ...]
    original_ids: tuple[str, ...]
    diagnostic: str


@dataclass(frozen=True)
class Inbound:
    """One message as the poller needs it; ``raw`` stays for its text (``body_text``)."""

    message_id: str
    in_reply_to: str
    references: tuple[str, ...]
    from_address: str
    recipients: tuple[str, ...]  # To, Cc and Bcc, normalised, in order
    subject: str
    date: datetime | None
    kind: str
    bounce: Bounce | None
    raw: bytes

    @property
    def thread_ids(self) -> tuple[str, ...]:
        """The Message-IDs this message answers (In-Reply-To first), and for a bounce the
        returned message's: where to look for the email of ours it belongs to."""
        ids = [*MESSAGE_ID.findall(self.in_reply_to), *reversed(self.references)]
        if self.bounce is not None:
            ids = [*self.bounce.original_ids, *ids]
        return tuple(dict.fromkeys(ids))


def read(raw: bytes) -> Inbound:
    """Parse and classify ``raw`` (the headers only, unless it is a bounce)."""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(raw)
    from_address = first_address(header(headers, "From"))
    subject = decoded(header(headers, "Subject"))
    bounce = None
    if is_bounce(headers, from_address, subject):
        bounce = bounce_details(raw)
    kind = BOUNCE if bounce is not None and bounce.failed else REPLY
    if kind == REPLY and (bounce is not None or is_automatic(headers, subject)):
        kind = AUTO_REPLY
    in_reply_to = header(headers, "In-Reply-To")
    return Inbound(
        message_id=message_id_of(headers),
        in_reply_to=first_id(in_reply_to),
        references=tuple(MESSAGE_ID.findall(header(headers, "References"))),
        from_address=from_address,
        recipients=tuple(
            dict.fromkeys(
                normalize(address)
                for _name, address in getaddresses(
                    [str(v) for name in ("To", "Cc", "Bcc") for v in headers.get_all(name, [])]
                )
                if "@" in address
            )
        ),
        subject=subject,
        date=date_of(headers),
        kind=kind,
        bounce=bounce,
        raw=raw,
    )


def first_id(value: str) -> str:
    """The first ``<...>`` Message-ID in a header, or an empty string."""
    found = MESSAGE_ID.search(value)
    return found.group(0)[:FIELD_LIMIT] if found else ""


def normalize(address: str) -> str:
    """Addresses are compared trimmed and in lower case, as leads and contacts store them."""
    return (address or "").strip().lower()


def header(message: ParsedMessage, name: str) -> str:
    value = message.get(name)
    return "" if value is None else str(value)


def decoded(value: str) -> str:
    """An RFC 2047 encoded header (``=?utf-8?q?...?=``) as text, on one line."""
    try:
        text = str(make_header(decode_header(value)))
    except (LookupError, UnicodeError, ValueError):
        text = value
    return " ".join(text.split())


def first_address(value: str) -> str:
    for _name, address in getaddresses([value]):
        if "@" in address:
            return normalize(address)
    return ""


def message_id_of(headers: ParsedMessage) -> str:
    """The message's Message-ID, or for one without, a stable stand-in made of its headers:
    reading the same message again (a changed UIDVALIDITY) must find the same key."""
    found = first_id(header(headers, "Message-ID"))
    if found:
        return found
    key = "\n".join(header(headers, name) for name in ("Date", "From", "To", "Subject"))
    return f"<{hashlib.sha256(key.encode(errors='replace')).hexdigest()[:40]}@refinery.invalid>"


def date_of(headers: ParsedMessage) -> datetime | None:
    value = header(headers, "Date")
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def is_automatic(headers: ParsedMessage, subject: str = "") -> bool:
    """An automatic reply (RFC 3834 and the headers responders use in practice), a mailing
    list's or a bulk message: it says nothing about the prospect's interest."""
    auto = header(headers, "Auto-Submitted").split(";")[0].strip().lower()
    if auto and auto != "no":
        return True
    for name in AUTO_HEADERS:
        value = headers.get(name)
        if value is not None and str(value).strip().lower() not in ("no", "false", "0"):
            return True
    if header(headers, "Precedence").strip().lower() in AUTO_PRECEDENCE:
        return True
    tokens = {t.strip().lower() for t in header(headers, "X-Auto-Response-Suppress").split(",")}
    if tokens & SUPPRESS_TOKENS:
        return True
    if headers.get("List-Id") is not None or header(headers, "Return-Path").strip() == "<>":
        return True
    return bool(AUTO_SUBJECT.search(subject or decoded(header(headers, "Subject"))))


def is_bounce(headers: ParsedMessage, from_address: str, subject: str) -> bool:
    """A delivery status notification (RFC 3464), or a mail server's bounce in the older
    free-text style (from MAILER-DAEMON, or naming the failed recipients in a header)."""
    if (
        headers.get_content_type() == "multipart/report"
        and str(headers.get_param("report-type", "")).lower() == "delivery-status"
    ):
        return True
    if headers.get("X-Failed-Recipients") is not None:
        return True
    local = from_address.partition("@")[0]
    return local in DAEMONS and bool(BOUNCE_SUBJECT.search(subject) or DELAY_SUBJECT.search(subject))


def bounce_details(raw: bytes) -> Bounce:
    """What failed, for whom, and which of our messages came back (parsed whole)."""
    message = BytesParser(policy=policy.compat32).parsebytes(raw)
    recipients: list[str] = []
    diagnostics: list[str] = []
    original_ids: list[str] = []
    failed = False
    report = False
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            report = True
            for block in _status_blocks(part):
                action = header(block, "Action").strip().lower()
                status = header(block, "Status").strip()
                address = _recipient(block)
                if not address:
                    continue
                if action == "failed" or (not action and status.startswith("5")):
                    failed = True
                    recipients.append(address)
                    diagnostics.append(_diagnostic(block) or status)
        elif kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            returned = HeaderParser(policy=policy.compat32).parsestr(
                payload.decode(errors="replace") if isinstance(payload, bytes) else str(part.get_payload())
            )
            original_ids += MESSAGE_ID.findall(header(returned, "Message-ID"))
        elif kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], ParsedMessage):
                original_ids += MESSAGE_ID.findall(header(inner[0], "Message-ID"))
    subject = decoded(header(message, "Subject"))
    if not report:
        # A free-text bounce: the failed recipients' header (Exim, Gmail), or the addresses its
        # text names (the poller keeps only those one of our emails went to).
        text = _plain_text(message)
        failed_header = header(message, "X-Failed-Recipients")
        named = [normalize(a) for _n, a in getaddresses([failed_header]) if "@" in a]
        recipients = named or [normalize(a) for a in ADDRESS.findall(text)]
        original_ids += re.findall(r"^Message-ID:\s*(<[^<>\s]+>)", text, re.IGNORECASE | re.MULTILINE)
        failed = bool(named) or not DELAY_SUBJECT.search(subject)
        found = SMTP_REPLY.search(text)
        diagnostics = [found.group(0).strip()] if found else []
    sender = first_address(header(message, "From"))
    return Bounce(
        failed=failed,
        recipients=tuple(dict.fromkeys(a for a in recipients if a and a != sender)),
        original_ids=tuple(dict.fromkeys(original_ids)),
        diagnostic=(diagnostics[0] if diagnostics else subject)[:500],
    )


def _status_blocks(part: ParsedMessage) -> list[ParsedMessage]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, ParsedMessage)]
    # Some servers send the report base64-encoded, which the parser leaves as one string.
    data = part.get_payload(decode=True)
    text = data.decode(errors="replace") if isinstance(data, bytes) else str(payload)
    parser = HeaderParser(policy=policy.compat32)
    return [
        parser.parsestr(chunk.strip() + "\n") for chunk in re.split(r"\r?\n\s*\r?\n", text) if chunk.strip()
    ]


def _recipient(block: ParsedMessage) -> str:
    for name in ("Original-Recipient", "Final-Recipient"):
        value = header(block, name)
        address = value.split(";", 1)[-1].strip().strip("<>")
        if "@" in address:
            return normalize(address)
    return ""


def _diagnostic(block: ParsedMessage) -> str:
    value = " ".join(header(block, "Diagnostic-Code").split())
    kind, _sep, rest = value.partition(";")
    return (rest if _sep else kind).strip()


def _plain_text(message: ParsedMessage) -> str:
    for part in message.walk():
        if (
            part.get_content_type() in ("text/plain", "text/html")
            and part.get_content_disposition() != "attachment"
        ):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                text = data.decode(part.get_content_charset() or "utf-8", errors="replace")
                return html_to_text(text) if part.get_content_type() == "text/html" else text
    return ""


def body_text(raw: bytes, *, limit: int = BODY_LIMIT) -> str:
    """The message's own words for the timeline: its text/plain part (or its HTML part as
    text), without the quoted email it answers, cut to ``limit`` characters."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)  # what policy.default parses into
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError, KeyError):
        data = part.get_payload(decode=True)
        content = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else ""
    if not isinstance(content, str):
        return ""
    if part.get_content_type() == "text/html":
        content = html_to_text(content)
    return cap(strip_quoted(content), limit)


def strip_quoted(text: str) -> str:
    """The reply without the email it quotes: cut at "On ... wrote:" (and its usual
    translations, or an "Original Message" line), and without ``>`` lines. The whole text
    when nothing else is left."""
    text = text.replace("\r\n", "\n")
    found = QUOTE_HEADER.search(text)
    head = text[: found.start()] if found else text
    own = "\n".join(line for line in head.split("\n") if not line.lstrip().startswith(">")).strip()
    return own or text.strip()


def cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _TextOfHtml(HTMLParser):
    BREAKS = {"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"}
    SKIPPED = {"script", "style", "head", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.SKIPPED:
            self.skipping += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """An HTML email's words (no tags, scripts or styles; blocks on lines of their own)."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
