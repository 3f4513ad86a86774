"""The one error type the services raise; views and the API turn it into a response."""


class SluiceError(Exception):
    status = 400

    def __init__(self, code: str, message: str, *, details: dict | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


class Invalid(SluiceError):
    status = 400


class Forbidden(SluiceError):
    status = 403


class NotFound(SluiceError):
    status = 404


class Refused(SluiceError):
    """A transition or limit refused: 409, the code names the guard."""

    status = 409
