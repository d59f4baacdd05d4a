"""The SDR API: my queue, touches, follow-ups, dispositions, reassignment."""


def register(router) -> None:
    pass
