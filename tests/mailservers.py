"""The real mail servers the email tests talk to, on 127.0.0.1 (bin/mail-servers starts them;
`make test` does it for you): Dovecot for IMAP and an aiosmtpd server that delivers every
message it accepts into Dovecot over LMTP.

    SMTP  127.0.0.1:10025  AUTH PLAIN/LOGIN optional (no TLS needed), STARTTLS offered
    SMTPS 127.0.0.1:10465  implicit TLS, self-signed
    IMAP  127.0.0.1:10143  LOGIN without TLS
    IMAPS 127.0.0.1:10993  self-signed
    LMTP  127.0.0.1:10024

Every user name logs in with PASSWORD; every other password is refused (IMAP and SMTP AUTH
alike). A message sent over SMTP to ``someone@any.domain`` lands, a moment later, in the INBOX
of the IMAP user ``someone@any.domain`` (plus addressing: ``sdr-1+x@...`` lands in ``sdr-1@...``).
Recipients whose local part starts with ``reject-`` are refused ``550 5.1.1`` at RCPT, those
starting with ``tempfail-`` ``451 4.3.0``. Mailboxes are never emptied: take a fresh address
from ``unique_address()`` in every test.
"""

import contextlib
import email
import email.policy
import imaplib
import socket
import ssl
import time
import uuid
from collections.abc import Iterable, Iterator
from email.message import EmailMessage

import pytest

HOST = "127.0.0.1"
SMTP_PORT = 10025
SMTPS_PORT = 10465
IMAP_PORT = 10143
IMAPS_PORT = 10993
LMTP_PORT = 10024
PASSWORD = "refinery-test"
DOMAIN = "refinery.test"

PORTS = {
    "SMTP": SMTP_PORT,
    "SMTPS": SMTPS_PORT,
    "IMAP": IMAP_PORT,
    "IMAPS": IMAPS_PORT,
    "LMTP": LMTP_PORT,
}


def unique_address(prefix: str = "rep", domain: str = DOMAIN) -> str:
    """A mailbox no other test (nor an earlier run) has used, e.g. ``rep-3f2a...@refinery.test``."""
    return f"{prefix}-{uuid.uuid4().hex}@{domain}"


def unverified_tls() -> ssl.SSLContext:
    """A client context that accepts the servers' self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def require_mail_servers() -> None:
    """Fail (never skip) with the way out when a mail server does not answer."""
    down = []
    for name, port in PORTS.items():
        try:
            with socket.create_connection((HOST, port), timeout=1):
                pass
        except OSError:
            down.append(f"{name} {HOST}:{port}")
    if down:
        raise RuntimeError(
            "The test mail servers do not answer (" + ", ".join(down) + "). Start them with "
            "`bin/mail-servers` (or `make mail-servers`, which also installs Dovecot)."
        )


@pytest.fixture
def mail_servers() -> None:
    """Use in a test (or `pytestmark = pytest.mark.usefixtures("mail_servers")`) that needs them."""
    require_mail_servers()


@contextlib.contextmanager
def imap(user: str, *, password: str = PASSWORD, tls: bool = False) -> Iterator[imaplib.IMAP4]:
    """An IMAP connection logged in as ``user`` (IMAPS with ``tls=True``), logged out after."""
    client = (
        imaplib.IMAP4_SSL(HOST, IMAPS_PORT, ssl_context=unverified_tls(), timeout=10)
        if tls
        else imaplib.IMAP4(HOST, IMAP_PORT, timeout=10)
    )
    try:
        client.login(user, password)
        yield client
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_append(
    user: str,
    raw: bytes,
    folder: str = "INBOX",
    flags: Iterable[str] = ("\\Seen",),
    when: float | None = None,
) -> None:
    """APPEND ``raw`` (a whole RFC 5322 message) to ``folder`` as ``user``, e.g. to put a
    reply in a mailbox without going through SMTP. ``when`` (epoch seconds) is its INTERNALDATE."""
    flag_list = "(" + " ".join(flags) + ")"
    date = imaplib.Time2Internaldate(when if when is not None else time.time())
    with imap(user) as client:
        status, data = client.append(_quoted(folder), flag_list, date, raw)
        if status != "OK":
            raise AssertionError(f"APPEND to {folder} as {user} failed: {data!r}")


def imap_folders(user: str) -> list[str]:
    """The names of ``user``'s folders (INBOX, Drafts, Sent, Trash, Junk, and any created)."""
    with imap(user) as client:
        _status, lines = client.list()
    names = []
    for line in lines:
        if isinstance(line, bytes):
            name = line.decode().rsplit(' "/" ', 1)[-1]
            names.append(name[1:-1] if name.startswith('"') else name)
    return names


def imap_messages(user: str, folder: str = "INBOX") -> list[EmailMessage]:
    """Every message in ``folder`` of ``user``, oldest first, parsed with email.policy.default
    (read-only: flags such as \\Seen are left as they were)."""
    with imap(user) as client:
        status, data = client.select(_quoted(folder), readonly=True)
        if status != "OK":
            raise AssertionError(f"{user} has no folder {folder!r}: {data!r}")
        status, data = client.uid("SEARCH", "ALL")
        uids = data[0].split() if data and data[0] else []
        messages = []
        for uid in uids:
            status, parts = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next(part[1] for part in parts if isinstance(part, tuple))
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)  # what policy.default parses into
            messages.append(message)
    return messages


def wait_for_messages(
    user: str, count: int, folder: str = "INBOX", timeout: float = 10
) -> list[EmailMessage]:
    """Poll until ``folder`` of ``user`` holds at least ``count`` messages and return them all:
    delivery (SMTP, then LMTP into Dovecot) finishes a moment after the SMTP client is done."""
    deadline = time.monotonic() + timeout
    while True:
        messages = imap_messages(user, folder)
        if len(messages) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    if len(messages) < count:
        raise AssertionError(
            f"{len(messages)} of {count} messages reached {user}'s {folder} after {timeout} s"
        )
    return messages
