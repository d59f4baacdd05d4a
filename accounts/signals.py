"""What ``accounts`` announces to the apps above it.

``opportunity_won`` is sent inside the transaction that closed an opportunity won, with
``opportunity``, ``by`` and ``at``. The renewals app (account management) connects to it: the
account becomes a customer with a contract and an account manager, in the same transaction,
so a won deal never exists without its contract.
"""

from django.dispatch import Signal

opportunity_won = Signal()
