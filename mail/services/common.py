"""What the mail services share: the refusal they raise and address normalisation."""

from kit.errors import Refused


class MailError(Refused):
    """A send, a mailbox or a template the rules do not allow; the message is for the user."""


def normalize(address: str) -> str:
    """How addresses are compared and suppressed: trimmed, lower case (as leads store them)."""
    return (address or "").strip().lower()
