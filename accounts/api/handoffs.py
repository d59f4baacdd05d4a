"""API: handoffs."""


def register(router) -> None:
    pass
