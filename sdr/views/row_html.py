"""A queue row's HTML, written in Python: the one place a row's markup lives (the list, a row
answered after a touch, a row out of band, the item's own page all come here, the templates
through ``{% load queue_rows %}``).

Why not a template: the queue page renders up to a hundred rows, and the template engine's
per-variable work (lookups, localisation, autoescaping, an include per row) was more than half
of the page's server time (cProfile, make bench: 60 ms of Python around 10 ms of SQL). The
same markup built from strings (``kit.html``) takes a tenth of it. Every value is escaped as
the template escaped it; tests read the rows of every kind.
"""

from urllib.parse import quote

from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe

from kit.display import iso_text, tel_href, when_text
from kit.html import esc as e
from kit.html import one_decimal

from .rows import QueueRow


def row_urls() -> tuple[str, str]:
    """The compose page and the queue, reversed once for a list of rows."""
    return reverse("mail:compose"), reverse("sdr:queue")


def rows_html(rows: list[QueueRow], *, read_only: bool) -> SafeString:
    """The rows of a queue list, each followed by a newline (as the included template was)."""
    compose_url, queue_url = row_urls()
    return mark_safe(
        "".join(
            row_html(row, read_only=read_only, compose_url=compose_url, queue_url=queue_url) + "\n"
            for row in rows
        )
    )


def row_html(
    row: QueueRow,
    *,
    read_only: bool,
    compose_url: str,
    queue_url: str,
    oob: bool = False,
    notice: str = "",
    panel: str = "",
) -> SafeString:
    """One ``<li>`` of the queue: ``oob`` swaps it out of band, ``notice`` says what just
    happened to it, ``panel`` is its open panel (rendered HTML, ``sdr/_item_panel.html``)."""
    item, lead = row.item, row.lead
    pk = str(item.pk)
    lead_url = e(row.lead_url)
    status = e(lead.status)

    grade = e(lead.fit_grade)
    rating = ""
    if lead.rating:
        rating = (
            f' <span class="tag" title="Rep rating: {e(lead.get_rating_display())}">{e(lead.rating)}</span>'
        )

    kind = item.kind
    tag = ""
    if kind == "handoff_returned":
        tag = '<span class="tag returned">Returned</span> '
    elif kind == "cadence_step":
        tag = '<span class="tag">Cadence step</span> '
    elif kind == "cadence_done":
        tag = '<span class="tag">Cadence done</span> '
    feedback = ""
    if kind == "handoff_returned" and item.note:
        feedback = f'<span class="q-feedback" title="The AE’s note">{e(truncatechars(item.note, 280))}</span>'  # noqa: RUF001 (as the page writes it)
    bucket = f'<br><small class="muted">{e(row.bucket_label)}</small>' if row.bucket_label else ""

    if row.last_touch_at:
        touch = (
            f'{e(row.touch_label)}<br><small class="muted" title="{e(when_text(row.last_touch_at))}">'
            f"{e(row.touch_ago)}</small>"
        )
    else:
        touch = '<span class="muted">No touch yet</span>'

    countdown = ""
    if row.countdown:
        countdown = f' data-due="{e(iso_text(item.due_at))}" data-countdown="{e(row.countdown)}"'
    policy = f"{e(item.policy.name)}: " if item.policy else ""

    actions = ""
    if row.workable and not read_only:
        panel_url = e(row.panel_url)
        compose = e(compose_url)
        lead_pk = str(lead.pk)
        actions = (
            f'<a class="button" href="{panel_url}" hx-get="{panel_url}" hx-target="#panel-{pk}" data-action="log"'
            f' aria-keyshortcuts="l">Log touch</a>'
            f'<a class="button" href="{compose}?lead={lead_pk}&amp;next={e(quote(queue_url, safe="/"))}"'
            f' hx-get="{compose}?lead={lead_pk}&amp;panel={pk}" hx-target="#panel-{pk}" data-action="email"'
            f' aria-keyshortcuts="e">Email</a>'
        )
        if lead.phone:
            actions += (
                f'<a class="button q-call" href="{e(tel_href(lead.phone))}" title="{e(lead.phone)}">Call</a>'
            )

    title = f" · {e(lead.title)}" if lead.title else ""
    swap = ' hx-swap-oob="true"' if oob else ""
    hot = '<span class="tag hot" title="Asked for a call">call</span>' if lead.hand_raiser else ""
    said = f'<p class="q-notice" role="status">{e(notice)}</p>' if notice else ""
    return mark_safe(
        f'<li class="q-row q-{e(item.state)}" id="item-{pk}" data-lead-url="{lead_url}"{swap}>\n'
        '  <div class="q-cells">\n'
        '    <div class="q-lead">\n'
        f'      <a class="q-name" href="{lead_url}">{e(lead.name or lead.email)}</a>\n'
        f"      {hot}\n"
        f'      <span class="status status-{status}">{e(lead.get_status_display())}</span>\n'
        f'      <br><small class="muted">{e(lead.company or "—")}{title}</small>\n'
        "    </div>\n"
        f'    <div class="q-grade"><span class="grade grade-{grade}" title="Fit {grade} · engagement'
        f' {one_decimal(row.engagement)} today">{e(row.grade)}</span>{rating}</div>\n'
        f'    <div class="q-why">{tag}{e(item.title)}{feedback}{bucket}</div>\n'
        f'    <div class="q-touch">{touch}</div>\n'
        f'    <div class="q-sla"><span class="sla sla-{e(row.sla_css)}"{countdown}'
        f' title="{policy}due {e(when_text(item.due_at))}">{e(row.sla_text)}</span></div>\n'
        f'    <div class="q-actions">{actions}</div>\n'
        "  </div>\n"
        f"  {said}\n"
        f'  <div class="q-panel" id="panel-{pk}">{panel}</div>\n'
        "</li>"
    )
