"""The mail pages' forms (a module per page): they parse and bound the input; the rules are
the services' (``mail.services``)."""

from .compose import ComposeForm
from .mailbox import MailboxForm
from .templates import TemplateForm

__all__ = ["ComposeForm", "MailboxForm", "TemplateForm"]
