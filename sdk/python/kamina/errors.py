"""Exceptions the client raises.

Every REST failure of kamina-graph is the envelope ``{code, message, retry_after, request_id}``
with the HTTP status of its code (docs/errors.md); :class:`KaminaError` carries those four
members and the status.
"""

from __future__ import annotations

from typing import Any


class KaminaError(Exception):
    """A failure answered by kamina-graph (or a transport failure, ``code`` ``NETWORK_ERROR``)."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(f"{code}: {message}" + (f" (request {request_id})" if request_id else ""))
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.request_id = request_id
        self.body = body

    @classmethod
    def from_envelope(cls, status: int, body: Any, request_id: str | None = None) -> "KaminaError":
        """Builds the exception of an error answer; a body that is not the envelope still gives one."""
        if isinstance(body, dict) and isinstance(body.get("code"), str):
            retry_after = body.get("retry_after")
            return cls(
                body["code"],
                str(body.get("message", "")),
                status=status,
                retry_after=float(retry_after) if isinstance(retry_after, (int, float)) else None,
                request_id=body.get("request_id") or request_id,
                body=body,
            )
        text = body if isinstance(body, str) else repr(body)
        return cls(f"HTTP_{status}", text[:500], status=status, request_id=request_id, body=body)


class RefreshTokenRejected(KaminaError):
    """The token endpoint refused a refresh token (400 ``INVALID_GRANT``).

    The token was spent, expired, revoked, or another client's. If it had already been used
    (a reuse: a copy of an old token, or two requests racing with the same one) the server has
    revoked the whole token family: the newest refresh token and the access tokens issued with
    the family fail too. Nothing more can be refreshed: ask the person for a new consent.
    """

    def __init__(self, cause: KaminaError) -> None:
        super().__init__(
            cause.code,
            f"{cause.message}. The refresh token was refused: if it had been used before, its whole "
            "family is revoked; ask the person for a new consent",
            status=cause.status,
            retry_after=cause.retry_after,
            request_id=cause.request_id,
            body=cause.body,
        )


class AuthorisationPending(KaminaError):
    """A live client's consent still awaits the person (400 ``AUTHORISATION_PENDING``): poll again later."""


class GraphQLError(KaminaError):
    """A GraphQL answer with ``errors``. ``code`` is the first error's ``extensions.code``;
    ``errors`` holds them all and ``data`` whatever part of the answer did resolve (a field that
    fails is null beside its siblings)."""

    def __init__(self, errors: list[dict[str, Any]], data: Any, *, status: int | None, request_id: str | None) -> None:
        first = errors[0] if errors else {}
        code = str((first.get("extensions") or {}).get("code") or "GRAPHQL_ERROR")
        super().__init__(code, str(first.get("message", "GraphQL error")), status=status, request_id=request_id, body={"errors": errors, "data": data})
        self.errors = errors
        self.data = data

    @property
    def codes(self) -> list[str]:
        """Every error's ``extensions.code``, in order."""
        return [str((error.get("extensions") or {}).get("code") or "GRAPHQL_ERROR") for error in self.errors]


class WebhookVerificationError(Exception):
    """A webhook delivery that does not verify: answer it with a 4xx and do not act on it."""
