"""The breach API."""


def register(router) -> None:
    pass
