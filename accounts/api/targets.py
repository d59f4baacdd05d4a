"""API: targets."""


def register(router) -> None:
    pass
