"""The accounts app's API: opportunities (the AE's inbox and pipeline), handoffs, and target
accounts with their prospects. Each part registers its own viewsets."""

from . import handoffs, opportunities, targets


def register(router) -> None:
    opportunities.register(router)
    handoffs.register(router)
    targets.register(router)
