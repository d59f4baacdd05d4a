"""Reading mail back over IMAP: every mailbox Refinery reads (a rep's own, with an IMAP
server) is polled each minute, its INBOX for replies, automatic replies and bounces, its Sent
folder for what the rep sent from their own mail client.

Nothing lost, nothing twice:

- Each folder's position is a ``FolderState`` (UIDVALIDITY, last UID read). New messages are
  fetched in batches of UIDs (``BODY.PEEK[]``: the folder is opened read-only, so no flag
  changes), and a batch's rows, timeline entries and new ``last_uid`` are committed in one
  transaction: a crash re-reads the batch, never skips it.
- A batch holds its ``FolderState`` row locked (``SELECT ... FOR UPDATE SKIP LOCKED``) while it
  fetches and records, so two pollers on one mailbox never read the same batch: the second
  finds the row locked and stops, or, coming between two batches, starts after the first's.
- A changed UIDVALIDITY (the server renumbered the folder) restarts it from UID 0; what was
  already recorded is recognised by its Message-ID (per mailbox) and skipped.
- A mailbox's mail from before it was connected (its ``created_at``, less a day) is passed
  over: connecting a mailbox does not turn years of old mail into replies.
- An outage (connection refused, a timeout, a refused login) is written on the mailbox
  (``check_error``, which the rep sees) and its folders' states; the next poll continues
  from the last UID committed.

Matching is set-based: per batch, one query for the Message-IDs the messages answer (our
emails), one for the leads and one for the contacts their addresses name, one for the
messages already recorded. A message matching nobody is not stored (it is not ours to keep);
only the position moves past it.
"""

import contextlib
import imaplib
import logging
import re
import ssl
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Contact
from leads.models import Lead, LeadRedirect

from .. import inbound
from ..crypto import CredentialError
from ..inbound import Inbound
from ..models import FolderState, Mailbox, Message, Security, Suppression
from .recording import record_auto_reply, record_bounce, record_reply, record_sent
from .sending import confirm_sent, describe
from .suppression import suppress

logger = logging.getLogger(__name__)

BATCH = 500
IMAP_TIMEOUT = 30
# A mailbox connected today must not replay years of mail as replies (ending cadences,
# adding engagement): messages dated before its connection, less this, are passed over.
HISTORY_GRACE = timedelta(days=1)
UID = re.compile(rb"\bUID (\d+)")


class ImapError(Exception):
    """The mailbox could not be read; the text says why, for the rep (never a password)."""


@dataclass
class FolderResult:
    """What one poll of one folder did."""

    folder: str
    counts: dict[str, int] = field(default_factory=dict)
    error: str = ""
    busy: bool = False  # another poller held the folder

    def add(self, outcome: str, n: int = 1) -> None:
        if n:
            self.counts[outcome] = self.counts.get(outcome, 0) + n


@dataclass
class PollResult:
    """What one poll of one mailbox did, folder by folder."""

    mailbox_id: int
    folders: list[FolderResult] = field(default_factory=list)
    error: str = ""

    def count(self, outcome: str) -> int:
        return sum(f.counts.get(outcome, 0) for f in self.folders)

    def as_dict(self) -> dict:
        return {
            "mailbox": self.mailbox_id,
            "error": self.error,
            "folders": {
                f.folder: {**f.counts, **({"error": f.error} if f.error else {})} for f in self.folders
            },
        }


@dataclass(frozen=True)
class Person:
    """Whom a message is from or to: a lead, a contact, or a contact with its lead."""

    lead_id: int | None = None
    contact_id: int | None = None


@dataclass(frozen=True)
class Ours:
    """An email of ours (sent by Refinery, or found in a Sent folder) a message refers to."""

    pk: int
    direction: str
    to_address: str
    person: Person


# --- the connection -------------------------------------------------------------------------


def connect(mailbox: Mailbox, *, timeout: float = IMAP_TIMEOUT) -> imaplib.IMAP4:
    """A logged-in IMAP connection to the mailbox (TLS as its settings say)."""
    host, port = mailbox.imap_host, mailbox.imap_port
    try:
        if mailbox.imap_security == Security.SSL:
            client: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                host, port, ssl_context=ssl.create_default_context(), timeout=timeout
            )
        else:
            client = imaplib.IMAP4(host, port, timeout=timeout)
            if mailbox.imap_security == Security.STARTTLS:
                client.starttls(ssl_context=ssl.create_default_context())
    except (OSError, imaplib.IMAP4.error) as exc:
        raise ImapError(f"Cannot reach the IMAP server {host}:{port}: {_describe(exc)}") from exc
    user = mailbox.imap_username or mailbox.from_address
    try:
        client.login(user, mailbox.imap_password)
    except (imaplib.IMAP4.error, CredentialError, OSError) as exc:
        _logout(client)
        raise ImapError(
            f"The IMAP server refused the login of {user} (check the user name and the password or"
            f" app password): {_describe(exc)}"
        ) from exc
    return client


def _describe(exc: BaseException) -> str:
    if isinstance(exc, imaplib.IMAP4.error | CredentialError):
        text = str(exc)
        # imaplib puts the server's bytes in the message: b'[AUTHENTICATIONFAILED] ...'
        return text[2:-1] if text[:2] in ("b'", 'b"') else text
    return describe(exc)


def _logout(client: imaplib.IMAP4) -> None:
    with contextlib.suppress(imaplib.IMAP4.error, OSError):
        client.logout()


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def examine(client: imaplib.IMAP4, folder: str) -> int:
    """Open ``folder`` read-only (EXAMINE) and return its UIDVALIDITY."""
    try:
        status, data = client.select(_quoted(folder), readonly=True)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error as exc:  # a BAD answer: a name the server cannot take
        raise ImapError(f"The folder {folder!r} cannot be opened: {_describe(exc)}") from exc
    if status != "OK":
        raise ImapError(f"The folder {folder!r} cannot be opened: {_text(data)}")
    _typ, values = client.response("UIDVALIDITY")
    try:
        return int(values[0])
    except (TypeError, ValueError, IndexError):
        raise ImapError(f"The server gave no UIDVALIDITY for {folder!r}.") from None


def new_uids(client: imaplib.IMAP4, after: int) -> list[int]:
    """The UIDs above ``after``, ascending. (``n:*`` also matches the highest UID when it is
    below ``n``, hence the filter.)"""
    status, data = client.uid("SEARCH", f"UID {after + 1}:*")
    if status != "OK":
        raise ImapError(f"The server refused to list new messages: {_text(data)}")
    return sorted(uid for uid in (int(x) for x in (data[0] or b"").split()) if uid > after)


def fetch(client: imaplib.IMAP4, uids: Sequence[int]) -> list[tuple[int, bytes]]:
    """The raw messages of ``uids`` (one ``UID FETCH`` of their range), in UID order."""
    wanted = set(uids)
    status, data = client.uid("FETCH", f"{min(uids)}:{max(uids)}", "(UID BODY.PEEK[])")
    if status != "OK":
        raise ImapError(f"The server refused to send the messages: {_text(data)}")
    found = []
    for item in data:
        if isinstance(item, tuple) and (match := UID.search(item[0])):
            uid = int(match.group(1))
            if uid in wanted:
                found.append((uid, item[1]))
    return sorted(found)


def _text(data) -> str:
    return " ".join(x.decode(errors="replace") if isinstance(x, bytes) else str(x) for x in data or [])


# --- polling ----------------------------------------------------------------------------------


def polled_mailboxes():
    """The mailboxes Refinery reads: a rep's own, with an IMAP server."""
    return Mailbox.objects.filter(kind=Mailbox.Kind.OWN).exclude(imap_host="")


def poll_mailboxes(*, now: datetime | None = None) -> dict[int, dict]:
    """The beat's task: poll every mailbox Refinery reads, one after the other. A mailbox that
    fails (its server down, a bug on one message) is reported and the others are polled."""
    results: dict[int, dict] = {}
    for pk in polled_mailboxes().order_by("pk").values_list("pk", flat=True):
        try:
            results[pk] = poll_mailbox(mailbox_id=pk, now=now).as_dict()
        except Exception as exc:  # one mailbox must not stop the others; logged with its traceback
            logger.exception("Polling mailbox %s failed", pk)
            results[pk] = {"mailbox": pk, "error": f"{type(exc).__name__}: {exc}"}
    return results


def poll_mailbox(*, mailbox_id: int, now: datetime | None = None, batch_size: int = BATCH) -> PollResult:
    """Read what is new in the mailbox's INBOX and Sent folder (see the module's docstring)."""
    result = PollResult(mailbox_id=mailbox_id)
    mailbox = Mailbox.objects.select_related("user").filter(pk=mailbox_id).first()
    if mailbox is None or not mailbox.reads_imap:
        return result
    now = now or timezone.now()
    try:
        client = connect(mailbox)
    except ImapError as exc:
        return _failed(mailbox, result, str(exc), now)
    try:
        for folder, reader in _folders(mailbox):
            result.folders.append(_poll_folder(client, mailbox, folder, reader, now, batch_size))
    except ImapError as exc:
        return _failed(mailbox, result, str(exc), now)
    except (OSError, imaplib.IMAP4.error) as exc:
        return _failed(mailbox, result, f"Reading the mailbox failed: {_describe(exc)}", now)
    finally:
        _logout(client)
    errors = [f"{f.folder}: {f.error}" for f in result.folders if f.error]
    result.error = "; ".join(errors)
    Mailbox.objects.filter(pk=mailbox.pk).update(checked_at=now, check_error=result.error[:500])
    return result


def _failed(mailbox: Mailbox, result: PollResult, error: str, now: datetime) -> PollResult:
    """Say why on the mailbox and its folders; their positions stay, so nothing is lost."""
    logger.warning("Mailbox %s could not be polled: %s", mailbox.pk, error)
    result.error = error
    Mailbox.objects.filter(pk=mailbox.pk).update(checked_at=now, check_error=error[:500])
    FolderState.objects.filter(mailbox=mailbox).update(error=error[:500])
    return result


Reader = Callable[[Mailbox, list[Inbound], datetime, FolderResult], None]


def _folders(mailbox: Mailbox) -> Iterator[tuple[str, Reader]]:
    yield mailbox.inbox_folder or "INBOX", read_inbox
    if mailbox.sent_folder:
        yield mailbox.sent_folder, read_sent


def _poll_folder(
    client: imaplib.IMAP4, mailbox: Mailbox, folder: str, reader: Reader, now: datetime, batch_size: int
) -> FolderResult:
    result = FolderResult(folder=folder)
    state, _ = FolderState.objects.get_or_create(mailbox=mailbox, folder=folder)
    try:
        uidvalidity = examine(client, folder)
    except ImapError as exc:
        result.error = str(exc)
        FolderState.objects.filter(pk=state.pk).update(error=result.error[:500], polled_at=now)
        return result
    if state.uidvalidity != uidvalidity:
        # Renumbered: read it all again (compare-and-swap, so a second poller resets it once).
        FolderState.objects.filter(pk=state.pk).exclude(uidvalidity=uidvalidity).update(
            uidvalidity=uidvalidity, last_uid=0
        )
        if state.uidvalidity:
            result.add("restarted")
        state.refresh_from_db()
    uids = new_uids(client, state.last_uid)
    for start in range(0, len(uids), batch_size):
        if not _read_batch(
            client, mailbox, state.pk, uidvalidity, uids[start : start + batch_size], reader, now, result
        ):
            result.busy = True
            break
    if not uids:
        FolderState.objects.filter(pk=state.pk).update(polled_at=now, error="")
    return result


def _read_batch(
    client: imaplib.IMAP4,
    mailbox: Mailbox,
    state_id: int,
    uidvalidity: int,
    uids: list[int],
    reader: Reader,
    now: datetime,
    result: FolderResult,
) -> bool:
    """Fetch and record one batch and move the position past it, in one transaction holding
    the folder's row. False when another poller holds it (this one stops)."""
    with transaction.atomic():
        state = FolderState.objects.select_for_update(skip_locked=True).filter(pk=state_id).first()
        if state is None or state.uidvalidity != uidvalidity:
            return False
        wanted = [uid for uid in uids if uid > state.last_uid]
        if wanted:
            messages = [inbound.read(raw) for _uid, raw in fetch(client, wanted)]
            result.add("read", len(messages))
            recent = [m for m in messages if not _before_connection(mailbox, m)]
            result.add("old", len(messages) - len(recent))
            reader(mailbox, recent, now, result)
            state.last_uid = max(wanted)
        state.polled_at = now
        state.error = ""
        state.save(update_fields=["last_uid", "polled_at", "error"])
    return True


def _before_connection(mailbox: Mailbox, message: Inbound) -> bool:
    return message.date is not None and message.date < mailbox.created_at - HISTORY_GRACE


# --- matching (set-based: a few queries per batch) ---------------------------------------------


def people(addresses: Iterable[str]) -> dict[str, Person]:
    """The leads and contacts with these addresses (normalised), one query each, and one more
    for the addresses no lead has (a merged lead's old address reaches the survivor)."""
    wanted = {a for a in addresses if a}
    if not wanted:
        return {}
    found = {
        email: Person(lead_id=pk)
        for email, pk in Lead.objects.filter(email__in=wanted).order_by().values_list("email", "pk")
    }
    # An address a merge left behind reaches the survivor (one more query, only for the rest).
    found |= {
        email: Person(lead_id=lead.pk)
        for email, lead in LeadRedirect.objects.survivors_by_email(wanted - found.keys()).items()
    }
    contacts = Contact.objects.filter(email__in=wanted).order_by().values_list("email", "pk", "lead_id")
    for email, pk, lead_id in contacts:
        known = found.get(email)
        found[email] = Person(lead_id=lead_id or (known.lead_id if known else None), contact_id=pk)
    return found


def ours(message_ids: Iterable[str]) -> dict[str, Ours]:
    """Our emails with these Message-IDs: sent by Refinery, or found in a Sent folder."""
    wanted = {m for m in message_ids if m}
    if not wanted:
        return {}
    rows = (
        Message.objects.filter(message_id__in=wanted)
        .filter(Q(direction=Message.Direction.OUT) | Q(kind=Message.Kind.SENT_ELSEWHERE))
        .order_by()
        .values_list("message_id", "pk", "direction", "to_address", "lead_id", "contact_id")
    )
    found: dict[str, Ours] = {}
    for message_id, pk, direction, to_address, lead_id, contact_id in rows:
        # An email of Refinery's wins over a copy the poller found in a Sent folder.
        if (lead_id or contact_id) and (message_id not in found or direction == Message.Direction.OUT):
            found[message_id] = Ours(pk, direction, to_address, Person(lead_id, contact_id))
    return found


def recorded(mailbox: Mailbox, message_ids: Iterable[str]) -> set[tuple[str, int | None, int | None]]:
    """(Message-ID, lead, contact) of the messages already read from this mailbox. Looked up
    by Message-ID alone (its index), the mailbox checked here: by mailbox, the lookup would
    read all the mail ever read from it."""
    wanted = {m for m in message_ids if m}
    if not wanted:
        return set()
    rows = (
        Message.objects.filter(direction=Message.Direction.IN, message_id__in=wanted)
        .order_by()
        .values_list("message_id", "lead_id", "contact_id", "mailbox_id")
    )
    return {(message_id, lead, contact) for message_id, lead, contact, box in rows if box == mailbox.pk}


def last_sent_to(mailbox: Mailbox, addresses: Iterable[str]) -> dict[str, Ours]:
    """This mailbox's latest email to each of these addresses (to find what a bounce that
    names only its recipient returned)."""
    wanted = {a for a in addresses if a}
    if not wanted:
        return {}
    rows = (
        Message.objects.filter(
            mailbox=mailbox,
            direction=Message.Direction.OUT,
            status=Message.Status.SENT,
            to_address__in=wanted,
        )
        .order_by("-sent_at", "-pk")
        .values_list("to_address", "pk", "lead_id", "contact_id")
    )
    found: dict[str, Ours] = {}
    for address, pk, lead_id, contact_id in rows:
        found.setdefault(
            address.lower(), Ours(pk, Message.Direction.OUT, address, Person(lead_id, contact_id))
        )
    return found


# --- the INBOX: replies, automatic replies, bounces -----------------------------------------


def own_addresses(mailbox: Mailbox) -> set[str]:
    return {inbound.normalize(a) for a in (mailbox.from_address, mailbox.imap_username) if "@" in (a or "")}


def read_inbox(mailbox: Mailbox, messages: list[Inbound], now: datetime, result: FolderResult) -> None:
    """Record a batch of INBOX messages: each one from or about a known person once."""
    own = own_addresses(mailbox)
    result.add("ignored", sum(1 for m in messages if m.from_address in own))
    messages = [m for m in messages if m.from_address not in own]
    done = {row[0] for row in recorded(mailbox, (m.message_id for m in messages))}
    threads = ours(i for m in messages for i in m.thread_ids)
    bounced = [m for m in messages if m.bounce is not None]
    known = people(
        [m.from_address for m in messages] + [a for m in bounced for a in m.bounce.recipients]  # type: ignore[union-attr]
    )
    sent_to = last_sent_to(mailbox, [a for m in bounced for a in m.bounce.recipients]) if bounced else {}  # type: ignore[union-attr]
    for message in messages:
        if message.message_id in done:
            result.add("duplicate")
            continue
        done.add(message.message_id)
        try:
            with transaction.atomic():
                outcome = _record_inbox(mailbox, message, threads, known, sent_to, now)
        except Exception:  # a message that breaks recording must not stop the mailbox; logged
            logger.exception("Mailbox %s: message %s could not be recorded", mailbox.pk, message.message_id)
            outcome = "failed"
        result.add(outcome)


def _record_inbox(
    mailbox: Mailbox,
    message: Inbound,
    threads: dict[str, Ours],
    known: dict[str, Person],
    sent_to: dict[str, Ours],
    now: datetime,
) -> str:
    original = next((threads[i] for i in message.thread_ids if i in threads), None)
    if message.kind == inbound.BOUNCE:
        return _record_bounce(mailbox, message, original, known, sent_to, now)
    person = original.person if original else known.get(message.from_address)
    if person is None:
        return "ignored"
    row = _store(mailbox, message, person, now, body=inbound.body_text(message.raw))
    if message.kind == inbound.AUTO_REPLY:
        record_auto_reply(row, now=now)
    else:
        record_reply(row, now=now)
    return message.kind


def _record_bounce(
    mailbox: Mailbox,
    message: Inbound,
    original: Ours | None,
    known: dict[str, Person],
    sent_to: dict[str, Ours],
    now: datetime,
) -> str:
    """The address bounces: it is suppressed, our email carries the server's answer (it was
    sent; the answer is why it never arrived), and the person's cadence ends."""
    bounce = message.bounce
    assert bounce is not None
    if original is None or original.direction != Message.Direction.OUT:
        original = next((sent_to[a] for a in bounce.recipients if a in sent_to), original)
    person: Person | None
    if original is not None:
        address, person = original.to_address, original.person
    else:
        address = next((a for a in bounce.recipients if a in known), "")
        person = known.get(address)
    if person is None or not address:
        return "ignored"
    diagnostic = bounce.diagnostic or message.subject
    row = _store(mailbox, message, person, now, body=diagnostic)
    returned = None
    if original is not None and original.direction == Message.Direction.OUT:
        Message.objects.filter(pk=original.pk).update(error=f"Bounced: {diagnostic}"[:500])
        returned = Message.objects.get(pk=original.pk)
    suppress(
        address=address,
        reason=Suppression.Reason.BOUNCED,
        detail=diagnostic,
        message=returned or row,
        now=now,
    )
    record_bounce(
        returned or Message(lead_id=person.lead_id, contact_id=person.contact_id, to_address=address),
        diagnostic,
        now=now,
    )
    return inbound.BOUNCE


def _store(mailbox: Mailbox, message: Inbound, person: Person, now: datetime, *, body: str) -> Message:
    at = min(message.date or now, now)
    return Message.objects.create(
        direction=Message.Direction.IN,
        status=Message.Status.RECEIVED,
        kind=message.kind,
        mailbox=mailbox,
        lead_id=person.lead_id,
        contact_id=person.contact_id,
        from_address=message.from_address[:320],
        to_address=mailbox.from_address,
        subject=message.subject[:300],
        body=body,
        message_id=message.message_id,
        in_reply_to=message.in_reply_to,
        references=" ".join(message.references),
        received_at=at,
        created_at=now,
    )


# --- the Sent folder: what the rep sent from their own mail client -----------------------------


def read_sent(mailbox: Mailbox, messages: list[Inbound], now: datetime, result: FolderResult) -> None:
    """Our emails found here are sent (an interrupted send is confirmed); another email to a
    known lead or contact is a touch by the mailbox's owner, recorded once per person."""
    ids = [m.message_id for m in messages]
    mine = set(
        Message.objects.filter(direction=Message.Direction.OUT, message_id__in=ids)
        .order_by()
        .values_list("message_id", flat=True)
    )
    if mine:
        result.add("ours", len(mine))
        result.add("confirmed", confirm_sent(message_ids=mine, now=now))
    others = [m for m in messages if m.message_id not in mine]
    known = people(a for m in others for a in m.recipients)
    done = recorded(mailbox, (m.message_id for m in others))
    for message in others:
        targets = [(a, known[a]) for a in message.recipients if a in known]
        if not targets:
            result.add("ignored")
            continue
        for address, person in targets:
            key = (message.message_id, person.lead_id, person.contact_id)
            if key in done:
                result.add("duplicate")
                continue
            done.add(key)
            try:
                with transaction.atomic():
                    _record_sent_elsewhere(mailbox, message, address, person, now)
                result.add("sent")
            except Exception:  # one message must not stop the mailbox; logged
                logger.exception(
                    "Mailbox %s: sent message %s could not be recorded", mailbox.pk, message.message_id
                )
                result.add("failed")


def _record_sent_elsewhere(
    mailbox: Mailbox, message: Inbound, address: str, person: Person, now: datetime
) -> None:
    """Stored as read from a mailbox (``direction`` in): Refinery did not send it, so the send
    service must never claim it, count it in the daily limit, or hold its Message-ID unique
    against the email it may answer; its kind says the rep sent it from their mail client."""
    row = Message.objects.create(
        direction=Message.Direction.IN,
        status=Message.Status.SENT,
        kind=Message.Kind.SENT_ELSEWHERE,
        mailbox=mailbox,
        sender=mailbox.user,
        lead_id=person.lead_id,
        contact_id=person.contact_id,
        from_address=(message.from_address or mailbox.from_address)[:320],
        to_address=address,
        subject=message.subject[:300],
        body=inbound.body_text(message.raw),
        message_id=message.message_id,
        in_reply_to=message.in_reply_to,
        references=" ".join(message.references),
        sent_at=min(message.date or now, now),
        created_at=now,
    )
    record_sent(row)
