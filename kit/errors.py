"""One refusal for the whole domain.

A service that will not do what it was asked raises ``Refused`` (or its app's subclass:
``WorkError``, ``SdrError``, ``CadenceError``, ``AccountsError``, ``RenewalsError``). With a
``field`` the refusal is about that input: forms put the message beside the field and the API
answers 400 ``{field: [message]}``. Without one it is about the state of what it acts on (an
opportunity already accepted, a lead no longer the caller's): the API answers 409
``{"detail": message}``. The message is written for the user.
"""


class Refused(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    @property
    def status(self) -> int:
        """The HTTP status a page or the API answers it with: 400 for an input, 409 for a state."""
        return 400 if self.field else 409
