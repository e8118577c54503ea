"""Standard Webhooks verification (https://www.standardwebhooks.com), as kamina-graph signs.

Headers: ``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature``
(``v1,<base64>``, space-separated when more than one secret is live, e.g. while a secret is
rotated). The signature is HMAC-SHA256, keyed with the base64-decoded part of the secret after
``whsec_``, over ``<webhook-id>.<webhook-timestamp>.<raw body>``. Verify the raw body bytes,
before parsing the JSON.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, Mapping

from .errors import WebhookVerificationError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 5 * 60


def _secret_key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    if secret.startswith(SECRET_PREFIX):
        secret = secret[len(SECRET_PREFIX) :]
    try:
        return base64.b64decode(secret, validate=True)
    except (ValueError, TypeError) as error:
        raise ValueError("a webhook secret is whsec_ followed by base64") from error


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        for key, candidate in headers.items():
            if key.lower() == name:
                return candidate
    return value


def sign(secret: str | bytes, msg_id: str, timestamp: int, body: str | bytes) -> str:
    """The ``v1,<base64>`` signature of a message (what the server sends; useful in tests)."""
    payload = body.encode("utf-8") if isinstance(body, str) else body
    signed = f"{msg_id}.{timestamp}.".encode("utf-8") + payload
    digest = hmac.new(_secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


class Webhook:
    """A verifier for one endpoint's secret(s).

    ``Webhook(secret).verify(headers, body)`` returns the parsed JSON payload, or raises
    :class:`WebhookVerificationError`. Give several secrets (the old and the new) while rotating.
    """

    def __init__(self, *secrets: str | bytes, tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS) -> None:
        if not secrets:
            raise ValueError("at least one secret")
        self._keys = [_secret_key(secret) for secret in secrets]
        self.tolerance_seconds = tolerance_seconds

    def verify(self, headers: Mapping[str, str], body: str | bytes, *, now: float | None = None) -> Any:
        msg_id = _header(headers, "webhook-id")
        timestamp_text = _header(headers, "webhook-timestamp")
        signatures = _header(headers, "webhook-signature")
        if not msg_id or not timestamp_text or not signatures:
            raise WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature")
        try:
            timestamp = int(timestamp_text)
        except ValueError:
            raise WebhookVerificationError("webhook-timestamp is not an integer") from None
        current = time.time() if now is None else now
        if timestamp < current - self.tolerance_seconds:
            raise WebhookVerificationError("message timestamp too old")
        if timestamp > current + self.tolerance_seconds:
            raise WebhookVerificationError("message timestamp too new")
        payload = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        signed = f"{msg_id}.{timestamp}.".encode("utf-8") + payload
        expected = [hmac.new(key, signed, hashlib.sha256).digest() for key in self._keys]
        for entry in signatures.split(" "):
            version, _, given_text = entry.partition(",")
            if version != "v1":
                continue
            try:
                given = base64.b64decode(given_text, validate=True)
            except ValueError:
                continue
            if any(hmac.compare_digest(given, digest) for digest in expected):
                try:
                    return json.loads(payload) if payload else None
                except ValueError:
                    raise WebhookVerificationError("the body is not JSON") from None
        raise WebhookVerificationError("no matching signature")


def verify_webhook(
    secret: str | bytes,
    headers: Mapping[str, str],
    body: str | bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> Any:
    """Verifies a delivery with ``secret`` (``whsec_...``) and returns its parsed JSON payload.

    An ``alert.created`` payload holds ``id`` (the message id), ``event``, ``created_at``,
    ``alert_id``, ``type``, ``severity`` (``low`` to ``critical``), ``user_id``, ``partner_ref``
    (your own ``customer_id`` and ``bureau_id`` for the person once they linked them, else
    ``None``), ``risk_band``, ``contributing_factors`` and ``suggested_action``; ignore keys you
    do not know.

    Raises :class:`WebhookVerificationError` when a header is missing, the timestamp is outside
    ``tolerance_seconds`` of ``now`` (replay protection) or no ``v1`` signature matches.
    """
    return Webhook(secret, tolerance_seconds=tolerance_seconds).verify(headers, body, now=now)
