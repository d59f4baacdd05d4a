"""The mail app's public service API: what views, tasks, other apps and tests call.

composing.py    a person's email: recipient, merge fields, preview, schedule, cancel
sending.py      the one send service: schedule, claim (exactly once), SMTP, retries,
                pace and daily limits, interrupted sends
recording.py    what a sent email, a reply, an automatic reply, a bounce or an
                unsubscribe does to the lead (touch, engagement, cadence ends)
steps.py        cadences' email steps: automatic ones written once and sent when due
                (nurture tracks too), manual ones drafted for the composer
suppression.py  the suppression list every path checks
mailboxes.py    a person's mailbox: saving it, and the connection test
templates.py    shared and personal templates, their merge fields checked
polling.py      reading replies, automatic replies, bounces and the Sent folder over IMAP
common.py       the error the modules raise, address normalisation
"""

from .common import MailError, normalize
from .composing import (
    Recipient,
    cancel_scheduled,
    check_send_at,
    merge_values,
    preview,
    recipient_for,
    schedule_email,
)
from .engagement import record_click, record_open, unsubscribe
from .mailboxes import (
    ConnectionFailed,
    Problem,
    check_connection,
    mailbox_for,
    mailbox_or_default,
    save_mailbox,
)
from .polling import ImapError, PollResult, poll_mailbox, poll_mailboxes
from .recording import (
    record_auto_reply,
    record_bounce,
    record_reply,
    record_sent,
    record_unsubscribe,
    summary,
)
from .sending import (
    Outcome,
    SendResult,
    confirm_sent,
    describe,
    in_business_hours,
    new_message_id,
    next_opening,
    recover_interrupted,
    schedule,
    send_due,
    send_message,
)
from .steps import StepDraft, StepOutcome, StepResult, send_due_steps, step_draft, step_opening
from .suppression import refusal, refuse_suppressed, remove, suppress, suppressed
from .templates import check_merge_fields, delete_template, save_template

__all__ = [
    "ConnectionFailed",
    "ImapError",
    "MailError",
    "Outcome",
    "PollResult",
    "Problem",
    "Recipient",
    "SendResult",
    "StepDraft",
    "StepOutcome",
    "StepResult",
    "cancel_scheduled",
    "check_connection",
    "check_merge_fields",
    "check_send_at",
    "confirm_sent",
    "delete_template",
    "describe",
    "in_business_hours",
    "mailbox_for",
    "mailbox_or_default",
    "merge_values",
    "new_message_id",
    "next_opening",
    "normalize",
    "poll_mailbox",
    "poll_mailboxes",
    "preview",
    "recipient_for",
    "record_auto_reply",
    "record_bounce",
    "record_click",
    "record_open",
    "record_reply",
    "record_sent",
    "record_unsubscribe",
    "recover_interrupted",
    "refusal",
    "refuse_suppressed",
    "remove",
    "save_mailbox",
    "save_template",
    "schedule",
    "schedule_email",
    "send_due",
    "send_due_steps",
    "send_message",
    "step_draft",
    "step_opening",
    "summary",
    "suppress",
    "suppressed",
    "unsubscribe",
]
