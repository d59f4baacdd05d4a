"""One refusal for the whole domain.

A service that will not do what it was asked raises ``Refused`` (or its app's subclass:
``WorkError``, ``InvalidTransition``, ``SdrError``, ``CadenceError``, ``AccountsError``,
``RenewalsError``), and every view, API action and admin hook catches ``Refused``, whichever
app's service refused. With a ``field`` the refusal is about that input: forms put the message
beside the field (``add_refusal``) and the API answers 400 ``{field: [message]}``. Without one
it is about the state of what it acts on (an opportunity already accepted, a lead no longer the
caller's, a lifecycle move its status does not allow): the API answers 409
``{"detail": message}`` (``kit.api_errors``). The message is written for the user.
"""


class Refused(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    @property
    def status(self) -> int:
        """The HTTP status a page or the API answers it with: 400 for an input, 409 for a state."""
        return 400 if self.field else 409


def add_refusal(form, exc: Refused) -> None:
    """Put a refusal on a page's form: beside the field it names when the form has that field,
    above the form otherwise (a state refusal, or a field another form holds)."""
    form.add_error(exc.field if exc.field in form.fields else None, str(exc))
