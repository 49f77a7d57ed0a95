"""What can go wrong talking to the appliance; every message is one line a person can read.

ClientError
├── UnreachableError   nothing answers at the URL (refused, timed out, DNS): retry later
├── RefusedError       the appliance refused the API token (401/403)
├── RejectedError      the appliance refused the request, with its reason (other 4xx)
│   └── NotOfferedError    the endpoint does not exist on this appliance (an older version)
└── BadAnswerError     the answer was not what the API promises (not JSON, a 5xx)
"""

from __future__ import annotations


class ClientError(Exception):
    """Base of the console's client errors; ``str()`` is one line."""


class UnreachableError(ClientError):
    pass


class RefusedError(ClientError):
    pass


class RejectedError(ClientError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class NotOfferedError(RejectedError):
    pass


class BadAnswerError(ClientError):
    pass
