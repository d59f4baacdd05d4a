"""Figure 8: reading mail back over IMAP."""

from ..mail_poll import BATCH, OTHER_SENT_PER_MESSAGE, MailPollFigures
from ..mdwriter import Block, Code, Heading, Paragraph, Section, Table, counts, kinds_by_time
from .summary import Row, not_measured
from .targets import MAIL_POLL_TARGET


def rows(m: MailPollFigures) -> list[Row]:
    name = f"IMAP poll of {m.messages:,} new messages matched against {m.leads:,} leads"
    if m.error:
        return [not_measured(name, m.error)]
    rate = m.messages / m.poll_seconds
    return [
        Row(
            name,
            f"{m.poll_seconds:.1f} s ({rate:,.0f} messages/s); {m.counts.get('reply', 0):,} replies recorded,"
            f" {m.counts.get('ignored', 0):,} unknown senders not stored",
            f"{m.bare_median:.2f} s (imaplib fetch alone, median of {len(m.bare_seconds)});"
            f" {m.parse_seconds:.2f} s with parsing",
            f"{m.poll_seconds / m.bare_median:.1f}x",
            f"≥ {MAIL_POLL_TARGET:,} messages/s; each reply once; matching set-based and indexed",
            rate >= MAIL_POLL_TARGET and m.correct,
        )
    ]


def section(m: MailPollFigures) -> Section:
    matching = Table(
        ("matching statement", "statements in the poll", f"batches of {BATCH}"),
        [(name, f"{n:,}", f"{m.batches:,}") for name, n in m.matching_statements.items()],
    )
    blocks: list[Block] = [
        Paragraph(
            f"One mailbox on the local Dovecot holds {m.messages:,} new messages: {m.mix['thread']:,} replies to",
            f"one of our emails (`In-Reply-To` its Message-ID), {m.mix['address']:,} emails from known leads'",
            f"addresses and {m.mix['unknown']:,} from addresses nobody knows, interleaved. `mail_message`",
            f"also holds {OTHER_SENT_PER_MESSAGE} other sent emails per message. The leads table holds",
            f"{m.leads:,} leads. APPENDing the messages took {m.append_seconds:.1f} s (not counted).",
        ),
        Paragraph(
            "`mail.services.poll_mailbox` runs once: login, EXAMINE, `UID SEARCH`, then per batch of",
            f"{BATCH} UIDs one `UID FETCH ... (BODY.PEEK[])`, one query for the Message-IDs they answer, one",
            "for the leads and one for the contacts their senders' addresses name, one for those already",
            "recorded, and for each reply its row, its activity (engagement, maybe MQL) and the end of its",
            "cadence, committed with the folder's new position. The baseline is the same fetch with imaplib",
            "and nothing else; the fetch with parsing adds `mail.inbound.read` of every message.",
        ),
        Paragraph(
            f"Outcomes: {counts(m.counts)}. Replies on the timeline: {m.recorded_replies:,} (expected",
            f"{m.expected['reply']:,}); messages stored: {m.stored_messages:,}; {m.statements:,} statements in",
            "all.",
        ),
        matching,
        Paragraph("The poll's statements by kind, the costliest first (the time of each `execute()`):"),
        Table(
            ("statement", "count", "ms"),
            [(kind, f"{n:,}", f"{ms:,.0f}") for kind, n, ms in kinds_by_time(m.kinds)[:12]],
        ),
    ]
    for name, plan in m.plans.items():
        blocks += [Heading(3, f"Plan: {name}"), Code(plan.splitlines())]
    if m.problems:
        blocks.append(Paragraph(*(f"- {p}" for p in m.problems)))
    return Section("8. Reading mail back over IMAP", blocks)
