"""``{% queue_rows rows %}`` and ``{% queue_row %}``: the queue's rows as ``sdr.views.row_html``
writes them (the list, and one row with its notice, panel or out-of-band swap)."""

from django import template
from django.utils.safestring import SafeString

from sdr.views.row_html import row_html, row_urls, rows_html

register = template.Library()

PANEL = "sdr/_item_panel.html"


@register.simple_tag(takes_context=True)
def queue_rows(context, rows) -> SafeString:
    return rows_html(rows, read_only=bool(context.get("read_only")))


@register.simple_tag(takes_context=True)
def queue_row(context) -> SafeString:
    """The context's ``row``; with ``panel`` (its forms) open, ``notice`` and ``oob`` as set."""
    row = context["row"]
    panel = ""
    if context.get("panel"):
        with context.push(workable=row.workable):
            panel = context.template.engine.get_template(PANEL).render(context)
    compose_url, queue_url = row_urls()
    return row_html(
        row,
        read_only=bool(context.get("read_only")),
        compose_url=compose_url,
        queue_url=queue_url,
        oob=bool(context.get("oob")),
        notice=context.get("notice") or "",
        panel=panel,
    )
