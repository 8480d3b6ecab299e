"""Errors of the HTTP service, in the project's one tree (each carries its HTTP status).

::

    CximpactError
    ├── AuthError              401: no token, an unknown token or a revoked one
    ├── ForbiddenError         403: the token's role may not do this
    ├── RateLimitedError       429: the token sent more requests than its rate allows
    └── PayloadTooLargeError   413: the request body or batch is over the configured limit
"""

from __future__ import annotations

from cximpact.errors import CximpactError

__all__ = ["AuthError", "ForbiddenError", "PayloadTooLargeError", "RateLimitedError"]


class AuthError(CximpactError):
    """The request carries no valid API token."""

    http_status = 401


class ForbiddenError(CximpactError):
    """The token is valid, but its role may not do this."""

    http_status = 403


class RateLimitedError(CximpactError):
    """The token exceeded its request rate; retry after ``retry_after`` seconds."""

    http_status = 429

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PayloadTooLargeError(CximpactError):
    """The request body, or the number of records in a batch, is over the limit."""

    http_status = 413
