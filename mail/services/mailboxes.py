"""Mailboxes: the one a person sends from (a system mailbox with their own address until they
connect their own), saving its settings, and the connection test that says exactly what is
wrong with an own mailbox's servers (DNS, the port, TLS, the login, a folder).

Passwords never leave this module in a message: the test's messages are built from the
server's answers and the exception's class, never from the exception's whole text with the
arguments of the call, and anything that could still carry a password is scrubbed. smtplib and
imaplib debugging stays off (it would print the LOGIN/AUTH lines).
"""

import imaplib
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from ..crypto import CredentialError
from ..models import FolderState, Mailbox, Security
from .common import MailError

CHECK_TIMEOUT = 10.0

# What the mailbox page edits (passwords go separately: they are write-only).
EDITABLE = (
    "kind",
    "from_name",
    "from_address",
    "signature",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "inbox_folder",
    "sent_folder",
    "daily_limit",
    "pace_seconds",
)


def system_address(user) -> str:
    """The address a system mailbox sends as: the person's own."""
    return user.email or f"{user.username}@localhost"


def mailbox_for(user) -> Mailbox:
    """``user``'s mailbox; the first time, a system mailbox sending as their own address."""
    mailbox = Mailbox.objects.filter(user=user).first()
    if mailbox is not None:
        return mailbox
    try:
        with transaction.atomic():
            return Mailbox.objects.create(
                user=user,
                kind=Mailbox.Kind.SYSTEM,
                from_name=user.get_full_name(),
                from_address=system_address(user),
            )
    except IntegrityError:
        return Mailbox.objects.get(user=user)


def mailbox_or_default(user) -> Mailbox:
    """``user``'s mailbox, or the system one they would get (not saved: a page showing it
    writes nothing)."""
    return Mailbox.objects.filter(user=user).first() or Mailbox(
        user=user,
        kind=Mailbox.Kind.SYSTEM,
        from_name=user.get_full_name(),
        from_address=system_address(user),
    )


# --- the connection test ---------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """What the connection test found wrong, about one of the mailbox's fields (the form shows
    it beside that field)."""

    field: str
    message: str


class ConnectionFailed(MailError):
    """The connection test found problems and the mailbox was not saved."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("The connection test failed: " + " ".join(p.message for p in problems))
        self.problems = problems


def check_connection(mailbox: Mailbox, *, timeout: float = CHECK_TIMEOUT) -> list[Problem]:
    """Talk to an own mailbox's servers as sending and polling will: SMTP (connect, EHLO,
    STARTTLS or TLS from the start, AUTH) and IMAP (connect, TLS, LOGIN, SELECT the inbox and
    the sent folder). An empty list: everything answered. A system mailbox has nothing to test
    (it sends through the installation's server)."""
    if mailbox.kind != Mailbox.Kind.OWN:
        return []
    problems = _check_smtp(mailbox, timeout)
    if mailbox.imap_host:
        problems += _check_imap(mailbox, timeout)
    return problems


# The exception's own text would quote the character, a piece of the password.
_NOT_ASCII = (
    "The login cannot carry characters beyond ASCII in the user name or password: use an app password."
)


def _tls() -> ssl.SSLContext:
    """Certificates are verified against the system's authorities and the host name."""
    return ssl.create_default_context()


@dataclass(frozen=True)
class _Server:
    """One server of a mailbox as the test reports on it: its fields' names on the form."""

    protocol: str  # "SMTP" or "IMAP"
    host: str
    port: int
    security: str
    prefix: str  # "smtp" or "imap": the form fields are <prefix>_host, <prefix>_port, ...

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def problem(self, field: str, message: str) -> Problem:
        return Problem(f"{self.prefix}_{field}", message)


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "•••")
    return text[:400]


def _answer(value: Any) -> str:
    """A server's answer as text (smtplib and imaplib give bytes)."""
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return str(value).strip()


def _network_problem(server: _Server, exc: OSError, timeout: float) -> Problem:
    """A failure on the way to the server: DNS, the port, TLS, a timeout."""
    if isinstance(exc, socket.gaierror):
        return server.problem(
            "host", f"{server.host} does not resolve: check the {server.protocol} server's name."
        )
    if isinstance(exc, ConnectionRefusedError):
        return server.problem(
            "port", f"{server.where} refused the connection: is the port right, and is the server running?"
        )
    if isinstance(exc, TimeoutError | socket.timeout):
        return server.problem(
            "port",
            f"{server.where} did not answer within {timeout:g} seconds: check the port and its security "
            "(TLS from the start on a plain port, or the other way round, waits for ever).",
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        return server.problem(
            "security",
            f"TLS failed at {server.where}: certificate verify failed ({exc.verify_message}); the server's "
            "certificate is not trusted (self-signed, expired, or made out to another name).",
        )
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or exc.strerror or type(exc).__name__
        if "WRONG_VERSION_NUMBER" in str(reason).upper():
            plain = "587" if server.protocol == "SMTP" else "143"
            return server.problem(
                "security",
                f"TLS failed at {server.where}: wrong version number, the port does not speak TLS from "
                f"the start; choose STARTTLS (usually port {plain}) or the server's TLS port.",
            )
        return server.problem(
            "security", f"TLS failed at {server.where}: {str(reason).lower().replace('_', ' ')}."
        )
    reason = exc.strerror or type(exc).__name__
    return server.problem("host", f"Could not reach {server.where}: {reason}.")


@sensitive_variables("password")
def _check_smtp(mailbox: Mailbox, timeout: float) -> list[Problem]:
    server = _Server("SMTP", mailbox.smtp_host, mailbox.smtp_port, mailbox.smtp_security, "smtp")
    if not server.host:
        return [server.problem("host", "Enter your SMTP server, e.g. smtp.example.com.")]
    try:
        password = mailbox.smtp_password
    except CredentialError as exc:
        return [server.problem("password", str(exc))]
    if mailbox.smtp_username and not password:
        return [server.problem("password", "Enter the SMTP password (or app password).")]
    secrets = (password,)
    client: smtplib.SMTP | None = None
    try:
        if server.security == Security.SSL:
            client = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout, context=_tls())
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        client.set_debuglevel(0)
        client.ehlo()
        if server.security == Security.STARTTLS:
            if not client.has_extn("starttls"):
                return [
                    server.problem(
                        "security",
                        f"{server.where} does not offer STARTTLS: choose TLS from the start (usually port "
                        "465) or the server's STARTTLS port (usually 587).",
                    )
                ]
            client.starttls(context=_tls())
            client.ehlo()
        if mailbox.smtp_username:
            if not client.has_extn("auth"):
                return [
                    server.problem(
                        "security",
                        f"{server.where} offers no login (AUTH) on this connection: it may want STARTTLS or "
                        "TLS first.",
                    )
                ]
            client.login(mailbox.smtp_username, password)
        return []
    except smtplib.SMTPAuthenticationError as exc:
        answer = _scrub(f"{exc.smtp_code} {_answer(exc.smtp_error)}", secrets)
        return [server.problem("password", f"The SMTP server refused the user name or password ({answer}).")]
    except smtplib.SMTPServerDisconnected:
        return [
            server.problem(
                "port",
                f"{server.where} closed the connection: check the port and its security (TLS from the "
                "start or STARTTLS).",
            )
        ]
    except smtplib.SMTPResponseException as exc:
        answer = _scrub(f"{exc.smtp_code} {_answer(exc.smtp_error)}", secrets)
        return [server.problem("host", f"The SMTP server at {server.where} answered: {answer}.")]
    except smtplib.SMTPException as exc:
        return [server.problem("host", f"SMTP failed at {server.where}: {type(exc).__name__}.")]
    except OSError as exc:
        return [_network_problem(server, exc, timeout)]
    except UnicodeEncodeError:
        return [server.problem("password", _NOT_ASCII)]
    finally:
        if client is not None:
            try:
                client.quit()
            except (smtplib.SMTPException, OSError):
                client.close()


_LIST_LINE = re.compile(r'^\((?P<flags>[^)]*)\) (?P<delimiter>"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def folder_names(lines: list[Any]) -> list[str]:
    """The folder names in an IMAP LIST answer."""
    names = []
    for line in lines:
        if not isinstance(line, bytes):
            continue
        match = _LIST_LINE.match(line.decode(errors="replace"))
        if not match:
            continue
        name = match.group("name")
        if name.startswith('"') and name.endswith('"'):
            name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        names.append(name)
    return names


@sensitive_variables("password")
def _check_imap(mailbox: Mailbox, timeout: float) -> list[Problem]:
    server = _Server("IMAP", mailbox.imap_host, mailbox.imap_port, mailbox.imap_security, "imap")
    try:
        password = mailbox.imap_password
    except CredentialError as exc:
        return [server.problem("password", str(exc))]
    if not password:
        return [server.problem("password", "Enter the IMAP password (or app password).")]
    if not mailbox.imap_username:
        return [server.problem("username", "Enter the IMAP user name (often your email address).")]
    secrets = (password,)
    client: imaplib.IMAP4 | None = None
    stage = "connect"
    try:
        if server.security == Security.SSL:
            client = imaplib.IMAP4_SSL(server.host, server.port, ssl_context=_tls(), timeout=timeout)
        else:
            client = imaplib.IMAP4(server.host, server.port, timeout=timeout)
        client.debug = 0
        if server.security == Security.STARTTLS:
            stage = "starttls"
            client.starttls(ssl_context=_tls())
        stage = "login"
        client.login(mailbox.imap_username, password)
        stage = "select"
        return _check_folders(client, mailbox, server)
    except imaplib.IMAP4.error as exc:
        answer = _scrub(_answer(exc.args[0] if exc.args else ""), secrets)
        if stage == "starttls":
            return [server.problem("security", f"{server.where} does not offer STARTTLS ({answer}).")]
        if stage == "login":
            return [
                server.problem("password", f"The IMAP server refused the user name or password ({answer}).")
            ]
        return [server.problem("host", f"The IMAP server at {server.where} answered: {answer}.")]
    except OSError as exc:
        return [_network_problem(server, exc, timeout)]
    except UnicodeEncodeError:
        return [server.problem("password", _NOT_ASCII)]
    finally:
        if client is not None:
            try:
                client.logout()
            except (imaplib.IMAP4.error, OSError):
                client.shutdown()


def _check_folders(client: imaplib.IMAP4, mailbox: Mailbox, server: _Server) -> list[Problem]:
    problems = []
    existing: list[str] | None = None
    for field, folder in (("inbox_folder", mailbox.inbox_folder), ("sent_folder", mailbox.sent_folder)):
        if not folder:
            continue
        status, _data = client.select(_quote(folder), readonly=True)
        if status == "OK":
            continue
        if existing is None:
            _status, lines = client.list()
            existing = folder_names(list(lines or []))
        have = ", ".join(existing) if existing else "no folders"
        problems.append(Problem(field, f"The folder '{folder}' does not exist; your server has: {have}."))
    return problems


# --- saving ----------------------------------------------------------------------------------


@sensitive_variables("smtp_password", "imap_password")
def save_mailbox(
    *,
    user,
    values: Mapping[str, Any],
    smtp_password: str = "",
    imap_password: str = "",
    save_anyway: bool = False,
    check: Callable[[Mailbox], list[Problem]] = check_connection,
    now: datetime | None = None,
) -> tuple[Mailbox, list[Problem]]:
    """Save ``user``'s mailbox settings (``values``: the fields in ``EDITABLE``). A blank
    password keeps the stored one. An own mailbox is tested first (``check_connection``, outside
    any transaction: it talks to the servers); when it fails nothing is saved
    (``ConnectionFailed`` with the problems) unless ``save_anyway``, and then the problems are
    recorded on the mailbox for its page and the composer to show. A system mailbox sends as
    the person's own address."""
    now = now or timezone.now()
    mailbox = mailbox_for(user)
    before = _imap_account(mailbox)
    for name in EDITABLE:
        if name in values:
            setattr(mailbox, name, values[name])
    if mailbox.kind == Mailbox.Kind.SYSTEM:
        mailbox.from_address = system_address(user)
    if smtp_password:
        mailbox.smtp_password = smtp_password
    if imap_password:
        mailbox.imap_password = imap_password
    problems = check(mailbox)
    if problems and not save_anyway:
        raise ConnectionFailed(problems)
    own = mailbox.kind == Mailbox.Kind.OWN
    mailbox.checked_at = now if own else None
    mailbox.check_error = " ".join(p.message for p in problems)[:500]
    mailbox.updated_at = now
    # Another IMAP account (or the first): it is connected now, so the poller passes over its
    # older mail, and the positions read in the old one mean nothing in it.
    reconnected = mailbox.reads_imap and _imap_account(mailbox) != before
    if reconnected:
        mailbox.created_at = now
    with transaction.atomic():
        # The claim of a send holds this row's lock: wait for it rather than write under it.
        Mailbox.objects.select_for_update().filter(pk=mailbox.pk).first()
        mailbox.save(
            update_fields=[
                *EDITABLE,
                "smtp_password_encrypted",
                "imap_password_encrypted",
                "checked_at",
                "check_error",
                "updated_at",
                "created_at",
            ]
        )
        if reconnected:
            FolderState.objects.filter(mailbox=mailbox).delete()
    return mailbox, problems


def _imap_account(mailbox: Mailbox) -> tuple[str, str, int, str] | None:
    if not mailbox.reads_imap:
        return None
    return (mailbox.imap_host.lower(), mailbox.imap_username, mailbox.imap_port, mailbox.inbox_folder)
