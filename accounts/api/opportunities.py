"""API: opportunities."""


def register(router) -> None:
    pass
