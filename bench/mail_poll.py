"""Figure 8: reading mail back over IMAP (``mail.services.polling.poll_mailbox``): a poll of
a mailbox holding N new messages on the local Dovecot, matched against the bench database's
leads, beside the bare fetch of the same messages with imaplib (and the fetch plus parsing,
which tells the IMAP and parsing time from the matching and recording time).

The messages: 10% are replies to one of our emails (``In-Reply-To`` its Message-ID), 40% are
emails from known leads' addresses, 50% from addresses nobody knows. Each known lead appears
once. Beside the emails being answered, ``mail_message`` holds ten sent emails per message
(so the Message-ID lookup is an index lookup in a table of some size, not a scan of a few
rows). The leads are whatever the database holds (another figure's million), or generated
with the sweep figure's generator when there are fewer than asked.

The poll runs once (it records what it reads); the bare fetch three times (median).
Matching is set-based, so the figure also counts the matching statements per batch and
explains them: both must be index scans.
"""

import imaplib
import statistics
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from .env import connect, scalar
from .timing import StatementTimer, Timer, statement_kinds

HOST = "127.0.0.1"
IMAP_PORT = 10143
PASSWORD = "refinery-test"  # the test Dovecot's one password (ops/mail/dovecot.conf)
DOMAIN = "refinery.bench"
BATCH = 500
BARE_REPEATS = 3
THREAD_SHARE, ADDRESS_SHARE = 0.10, 0.40  # the rest: unknown senders
OTHER_SENT_PER_MESSAGE = 10


@dataclass
class MailPollFigures:
    leads: int
    messages: int
    mix: dict[str, int]
    generate_seconds: float
    append_seconds: float
    bare_seconds: list[float]
    parse_seconds: float
    poll_seconds: float
    counts: dict[str, int]
    expected: dict[str, int]
    recorded_replies: int
    stored_messages: int
    statements: int
    matching_statements: dict[str, int]
    batches: int
    kinds: dict[str, list] = field(default_factory=dict)  # statement kind -> [count, ms]
    plans: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def bare_median(self) -> float:
        return statistics.median(self.bare_seconds)

    @property
    def correct(self) -> bool:
        """Every reply recorded once, nobody unknown stored, matching set-based and indexed."""
        return (
            not self.error
            and self.counts.get("reply", 0) == self.expected["reply"]
            and self.counts.get("ignored", 0) == self.expected["ignored"]
            and self.recorded_replies == self.expected["reply"]
            and self.stored_messages == self.expected["reply"]
            and all(n <= self.batches for n in self.matching_statements.values())
            and not self.problems
        )


def ensure_leads(n: int, *, owners: list[int], campaigns: list[int]) -> tuple[int, float]:
    """At least ``n`` leads: those another figure left, or ``n`` generated. Returns the number
    of leads and the seconds generating took (0 when none were needed)."""
    from . import sweep

    with connect() as conn:
        have = scalar(conn, "SELECT count(*) FROM leads_lead")
    if have >= n:
        return have, 0.0
    seconds = sweep.generate_leads(n, owners=owners, campaigns=campaigns, now=datetime.now(UTC))
    return n, seconds


def known_leads(k: int, total: int) -> list[tuple[int, str]]:
    """``k`` leads spread over the table (id and address)."""
    step = max(1, total // (k + 1))
    with connect() as conn:
        rows = conn.execute(
            "SELECT id, email FROM leads_lead WHERE id %% %(step)s = 0 ORDER BY id LIMIT %(k)s",
            {"step": step, "k": k},
        ).fetchall()
    if len(rows) < k:
        raise RuntimeError(f"only {len(rows)} leads found for {k} known senders")
    return rows


def create_mailbox(address: str):
    from mail.models import Mailbox, Security
    from team.models import Role, User

    user = User.objects.create(
        username=f"bench-mail-{uuid.uuid4().hex[:8]}", role=Role.OUTBOUND_SDR, password="!"
    )
    mailbox = Mailbox(
        user=user,
        kind=Mailbox.Kind.OWN,
        from_address=address,
        imap_host=HOST,
        imap_port=IMAP_PORT,
        imap_security=Security.NONE,
        imap_username=address,
        sent_folder="",  # the figure is the INBOX; an empty Sent folder would add one EXAMINE
    )
    mailbox.imap_password = PASSWORD
    mailbox.save()
    return mailbox


def insert_sent(mailbox, threads: list[tuple[int, str]], others: int) -> list[str]:
    """Our emails the thread replies answer, and ``others`` more sent emails; returns the
    Message-IDs of the first."""
    ids = [f"<bench-{uuid.uuid4().hex}@{DOMAIN}>" for _ in threads]
    now = datetime.now(UTC)
    with connect() as conn:
        conn.execute(
            """
            INSERT INTO mail_message (direction, status, kind, mailbox_id, sender_id, lead_id, from_address,
                to_address, subject, body, message_id, in_reply_to, "references", tracked, unsubscribe_link,
                sent_at, attempts, error, created_at)
            SELECT 'out', 'sent', 'email', %(mailbox)s, %(sender)s, t.lead, %(from)s, t.address, 'Quick question',
                'Hi, would Thursday work?', t.mid, '', '', false, false, %(now)s, 1, '', %(now)s
            FROM unnest(%(leads)s::bigint[], %(addresses)s::text[], %(ids)s::text[]) AS t(lead, address, mid)
            """,
            {
                "mailbox": mailbox.pk,
                "sender": mailbox.user_id,
                "from": mailbox.from_address,
                "now": now,
                "leads": [pk for pk, _ in threads],
                "addresses": [address for _, address in threads],
                "ids": ids,
            },
        )
        conn.execute(
            """
            INSERT INTO mail_message (direction, status, kind, from_address, to_address, subject, body,
                message_id, in_reply_to, "references", tracked, unsubscribe_link, sent_at, attempts, error,
                created_at)
            SELECT 'out', 'sent', 'email', 'someone@refinery.bench', 'p' || i || '@elsewhere.example', 'Hello',
                'Hello', '<other-' || i || '-' || %(run)s || '@refinery.bench>', '', '', false, false, %(now)s,
                1, '', %(now)s
            FROM generate_series(1, %(n)s) AS i
            """,
            {"n": others, "now": now, "run": uuid.uuid4().hex[:8]},
        )
        conn.execute("VACUUM ANALYZE mail_message")
    return ids


def raw_email(sender: str, to: str, n: int, in_reply_to: str = "") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = f"Re: Quick question ({n})"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<bench-in-{n}-{uuid.uuid4().hex}@prospect.example>"
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message.set_content(
        f"Thanks, Thursday works for me. Message {n}.\n\nOn Mon, Sam wrote:\n> Hi, would Thursday work?\n"
    )
    return bytes(message)


def append_all(address: str, messages: list[bytes]) -> float:
    """APPEND every message to the INBOX over one connection; returns the seconds it took."""
    client = imaplib.IMAP4(HOST, IMAP_PORT, timeout=60)
    client.login(address, PASSWORD)
    date = imaplib.Time2Internaldate(time.time())
    with Timer() as timer:
        for raw in messages:
            status, data = client.append("INBOX", "(\\Seen)", date, raw)
            if status != "OK":
                raise RuntimeError(f"APPEND failed: {data!r}")
    client.logout()
    return timer.seconds


def bare_fetch(address: str, *, parse: bool = False) -> tuple[float, int]:
    """What any poller pays: log in, EXAMINE, list the UIDs, fetch them in batches (and with
    ``parse``, read each with ``mail.inbound.read``). Returns (seconds, messages)."""
    from mail import inbound

    fetched = 0
    with Timer() as timer:
        client = imaplib.IMAP4(HOST, IMAP_PORT, timeout=60)
        client.login(address, PASSWORD)
        client.select('"INBOX"', readonly=True)
        _status, data = client.uid("SEARCH", "UID 1:*")
        uids = sorted(int(x) for x in (data[0] or b"").split())
        for start in range(0, len(uids), BATCH):
            chunk = uids[start : start + BATCH]
            _status, data = client.uid("FETCH", f"{chunk[0]}:{chunk[-1]}", "(UID BODY.PEEK[])")
            for item in data:
                if isinstance(item, tuple):
                    fetched += 1
                    if parse:
                        inbound.read(item[1])
        client.logout()
    return timer.seconds, fetched


# The poller's matching statements, told apart by the columns each selects.
MATCHING = {
    "our emails by Message-ID (mail_message)": 'SELECT "mail_message"."message_id" AS "message_id", "mail_message"."id"',
    "already recorded (mail_message)": 'SELECT "mail_message"."message_id" AS "message_id", "mail_message"."lead_id"',
    "leads by address (leads_lead)": 'SELECT "leads_lead"."email" AS "email", "leads_lead"."id" AS "pk" FROM',
    "contacts by address (accounts_contact)": 'SELECT "accounts_contact"."email" AS "email", "accounts_contact"."id"',
}


# Below these sizes PostgreSQL rightly reads a table whole rather than look up 500 keys.
SCAN_CHECK_LEADS, SCAN_CHECK_MESSAGES = 100_000, 2_000


def explain(statements: list[tuple[str, Any, float]], *, check: bool) -> tuple[dict[str, str], list[str]]:
    """EXPLAIN (ANALYZE, BUFFERS) of the first matching statement of each kind, and (with
    ``check``) any sequential scan of a large table in them."""
    from django.db import connection

    from .plans import cut, seq_scan

    plans, problems = {}, []
    with connection.cursor() as cursor:
        for name, marker in MATCHING.items():
            found = next(((sql, params) for sql, params, _ms in statements if marker in sql), None)
            if found is None:
                continue
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + found[0], found[1])
            plan = "\n".join(cut(row[0]) for row in cursor.fetchall())
            plans[name] = plan
            for table in ("leads_lead", "mail_message"):
                if check and seq_scan(plan, table):
                    problems.append(f"{name}: a sequential scan of {table}")
    return plans, problems


def measure(
    leads: int, messages: int, *, owners: list[int], campaigns: list[int], log=print
) -> MailPollFigures:
    from leads.models import Activity, ActivityKind
    from mail.models import Message
    from mail.services import poll_mailbox

    total, generate_seconds = ensure_leads(leads, owners=owners, campaigns=campaigns)
    if generate_seconds:
        log(f"mail: generated {total:,} leads in {generate_seconds:.1f} s")
    n_thread = int(messages * THREAD_SHARE)
    n_address = int(messages * ADDRESS_SHARE)
    n_unknown = messages - n_thread - n_address
    known = known_leads(n_thread + n_address, total)
    threads, senders = known[:n_thread], known[n_thread:]
    address = f"bench-{uuid.uuid4().hex}@{DOMAIN}"
    mailbox = create_mailbox(address)
    ids = insert_sent(mailbox, threads, messages * OTHER_SENT_PER_MESSAGE)
    raws = (
        [
            raw_email(email, address, n, in_reply_to=mid)
            for n, ((_pk, email), mid) in enumerate(zip(threads, ids, strict=True))
        ]
        + [raw_email(email, address, n_thread + n) for n, (_pk, email) in enumerate(senders)]
        + [raw_email(f"stranger{n}@unknown.example", address, messages + n) for n in range(n_unknown)]
    )
    # Interleaved, as a real INBOX would have them.
    raws = [raws[i] for i in sorted(range(len(raws)), key=lambda i: (i * 7919) % len(raws))]
    log(f"mail: appending {messages:,} messages to {address} on Dovecot")
    append_seconds = append_all(address, raws)
    log(f"mail: appended in {append_seconds:.1f} s ({messages / append_seconds:,.0f}/s)")

    bare = []
    for _ in range(BARE_REPEATS):
        seconds, fetched = bare_fetch(address)
        if fetched != messages:
            raise RuntimeError(f"the bare fetch found {fetched} of {messages} messages")
        bare.append(seconds)
    parse_seconds, _ = bare_fetch(address, parse=True)
    log(
        f"mail: bare fetch median {statistics.median(bare):.2f} s"
        f" ({', '.join(f'{s:.2f}' for s in bare)}); fetch + parse {parse_seconds:.2f} s"
    )

    with StatementTimer() as statements, Timer() as timer:
        result = poll_mailbox(mailbox_id=mailbox.pk, batch_size=BATCH)
    counts = {k: v for f in result.folders for k, v in f.counts.items()}
    log(
        f"mail: poll {timer.seconds:.2f} s ({messages / timer.seconds:,.0f} messages/s): {counts} {result.error}"
    )
    matching = {
        name: sum(1 for sql, _p, _ms in statements.statements if marker in sql)
        for name, marker in MATCHING.items()
    }
    kinds = statement_kinds(statements.statements)
    database_ms = sum(ms for _n, ms in kinds.values())
    log(f"mail: {len(statements.statements):,} statements, {database_ms / 1000:.2f} s in execute()")
    plans, problems = explain(
        statements.statements, check=total >= SCAN_CHECK_LEADS and messages >= SCAN_CHECK_MESSAGES
    )
    for problem in problems:
        log(f"mail: WARNING: {problem}")
    return MailPollFigures(
        leads=total,
        messages=messages,
        mix={"thread": n_thread, "address": n_address, "unknown": n_unknown},
        generate_seconds=generate_seconds,
        append_seconds=append_seconds,
        bare_seconds=bare,
        parse_seconds=parse_seconds,
        poll_seconds=timer.seconds,
        counts=counts,
        expected={"reply": n_thread + n_address, "ignored": n_unknown},
        recorded_replies=Activity.objects.filter(
            lead_id__in=[pk for pk, _ in known], kind=ActivityKind.EMAIL_REPLY
        ).count(),
        stored_messages=Message.objects.filter(mailbox=mailbox, direction=Message.Direction.IN).count(),
        statements=len(statements.statements),
        matching_statements=matching,
        kinds=kinds,
        batches=-(-messages // BATCH),
        plans=plans,
        problems=problems,
        error=result.error,
    )
