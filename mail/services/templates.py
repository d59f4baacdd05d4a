"""Email templates: shared ones (no owner; managers, marketing and superusers edit them) and
personal ones (their owner's). A template's merge fields are checked when it is saved: an
unknown name is refused, a value missing for some recipient is not (that is found, and
refused, when an email is previewed or sent)."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .. import merge
from ..access import may_edit_shared_templates, may_edit_template
from ..models import Template
from .common import MailError

# Every field has a value here: only unknown names can fail.
_SAMPLE = dict.fromkeys(merge.FIELDS, "x")


def check_merge_fields(*, subject: str, body: str) -> None:
    """``MergeError`` on ``subject`` or ``body`` for an unknown merge field."""
    merge.render(subject=subject, body=body, values=_SAMPLE)


def save_template(
    *,
    by,
    name: str,
    subject: str,
    body: str,
    shared: bool,
    template_id: int | None = None,
    now: datetime | None = None,
) -> Template:
    """Create (``template_id`` None) or change a template. Shared templates are written by
    managers, marketing and superusers; a personal one by its owner (a person who may write
    shared ones may also share their own, or take a shared one as their own)."""
    now = now or timezone.now()
    name, subject = name.strip(), subject.strip()
    if not name:
        raise MailError("Give the template a name.", field="name")
    if not subject:
        raise MailError("Write a subject.", field="subject")
    if not body.strip():
        raise MailError("Write the email.", field="body")
    check_merge_fields(subject=subject, body=body)
    if shared and not may_edit_shared_templates(by):
        raise MailError("Only managers and marketing write shared templates.", field="shared")
    with transaction.atomic():
        if template_id is None:
            template = Template(created_by=by, created_at=now)
        else:
            found = Template.objects.select_for_update().filter(pk=template_id).first()
            if found is None or not may_edit_template(by, found):
                raise MailError("You cannot change this template.")
            template = found
        template.name = name[:100]
        template.subject = subject[:300]
        template.body = body
        template.owner = None if shared else by
        template.updated_at = now
        template.save()
    return template


def delete_template(*, by, template_id: int) -> None:
    with transaction.atomic():
        template = Template.objects.select_for_update().filter(pk=template_id).first()
        if template is None or not may_edit_template(by, template):
            raise MailError("You cannot delete this template.")
        template.delete()
