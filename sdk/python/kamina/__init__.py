"""kamina: a Python client of kamina-graph (standard library only, Python 3.11+)."""

from .client import ConsentAnswer, KaminaClient, Response, Tokens
from .errors import AuthorisationPending, GraphQLError, KaminaError, RefreshTokenRejected, WebhookVerificationError
from .webhooks import Webhook, sign, verify_webhook

__all__ = [
    "AuthorisationPending",
    "ConsentAnswer",
    "GraphQLError",
    "KaminaClient",
    "KaminaError",
    "RefreshTokenRejected",
    "Response",
    "Tokens",
    "Webhook",
    "WebhookVerificationError",
    "sign",
    "verify_webhook",
]
__version__ = "0.1.0"
