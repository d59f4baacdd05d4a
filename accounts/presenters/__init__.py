"""What the AE's read pages show, as small frozen dataclasses the templates read: the
opportunity (or lead) a row stands for, and beside it what the page computed for it (SLA
badges, grades, amounts and dates as text, links), instead of attributes attached to the
model instances. A module per page:

- ``inbox``: the inbox's rows (``InboxRow``);
- ``pipeline``: the board's cards and columns, the list's rows (``Card``, ``Column``, ``ListRow``);
- ``early_losses``: the early-loss review's rows (``LossRow``, ``SdrLosses``).

The opportunity and hand-off pages show a lead's grade with ``leads.presenters.ScoredLead``
and their work items with ``sdr.views.ItemLine``.

The views read the rows (one query per kind of row, whatever their number); the presenters
only shape what was read, and run no query.
"""
