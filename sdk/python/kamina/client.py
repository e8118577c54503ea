"""The kamina-graph client: consent, tokens with refresh rotation, REST routes and GraphQL."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping

from .errors import AuthorisationPending, GraphQLError, KaminaError, RefreshTokenRejected

__all__ = ["KaminaClient", "Tokens", "ConsentAnswer", "Response"]

USER_AGENT = "kamina-python/0.1"


@dataclass
class Tokens:
    """A consent's tokens: keep only the newest refresh token (each refresh spends the last)."""

    access_token: str
    refresh_token: str | None = None
    expires_in: int | None = None
    consent_id: str | None = None
    token_type: str = "Bearer"
    scope: str | None = None
    obtained_at: float = field(default_factory=time.time)

    @classmethod
    def from_answer(cls, body: Mapping[str, Any]) -> "Tokens":
        return cls(
            access_token=str(body["access_token"]),
            refresh_token=body.get("refresh_token"),
            expires_in=body.get("expires_in"),
            consent_id=body.get("consent_id"),
            token_type=str(body.get("token_type") or "Bearer"),
            scope=body.get("scope"),
        )

    def expires_soon(self, margin_seconds: float = 30.0) -> bool:
        return self.expires_in is not None and time.time() >= self.obtained_at + self.expires_in - margin_seconds


@dataclass
class ConsentAnswer:
    """What ``POST /v1/auth/consent`` answered: a sandbox client's tokens at once (200), or a
    live client's consent awaiting the person in the Kamina app (202, no tokens)."""

    consent_id: str
    status: str
    tokens: Tokens | None
    body: dict[str, Any]

    @property
    def awaiting(self) -> bool:
        return self.tokens is None


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any
    raw: bytes


def _iso(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


class KaminaClient:
    """A partner's client of kamina-graph.

    ``base_url`` is the gateway's origin (``http://localhost:4000``); ``client_id`` and
    ``client_secret`` authenticate the partner (HTTP Basic) on the consent, token, consent and
    webhook routes. Data routes use the consent's access token (:attr:`tokens`), refreshed
    before it expires; the partner's own routes (exports, the prevention report, and a person
    named by ``user_id``) use a client-credentials token obtained when first needed.

    ``max_retries`` (default 0) retries a 429 or 503 answer after its ``retry_after`` (at most
    ``max_retry_wait`` seconds each). ``on_tokens`` is called with every new :class:`Tokens`
    so the newest refresh token can be stored.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        tokens: Tokens | None = None,
        timeout: float = 30.0,
        max_retries: int = 0,
        max_retry_wait: float = 60.0,
        on_tokens: Callable[[Tokens], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode("utf-8")).decode("ascii")
        self.tokens = tokens
        self.partner_tokens: Tokens | None = None
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_retry_wait = max_retry_wait
        self.on_tokens = on_tokens
        self._refresh_lock = threading.Lock()

    # ------------------------------------------------------------------ transport

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json_body: Any = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: str | None = None,
    ) -> Response:
        """One call; raises :class:`KaminaError` on a 4xx or 5xx. ``auth`` is an Authorization value."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        if query:
            pairs = [(key, _iso(value)) for key, value in query.items() if value is not None]
            if pairs:
                url += ("&" if "?" in url else "?") + urllib.parse.urlencode(pairs)
        all_headers = {"accept": "application/json", "user-agent": USER_AGENT, **(headers or {})}
        data: bytes | None = None
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            all_headers["content-type"] = "application/json"
        elif form is not None:
            data = urllib.parse.urlencode(form).encode("ascii")
            all_headers["content-type"] = "application/x-www-form-urlencoded"
        if auth:
            all_headers["authorization"] = auth
        attempt = 0
        while True:
            request = urllib.request.Request(url, data=data, method=method, headers=all_headers)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    return self._read(answer.status, answer.headers, answer.read())
            except urllib.error.HTTPError as failure:
                response = self._read(failure.code, failure.headers, failure.read())
                error = KaminaError.from_envelope(response.status, response.body, response.headers.get("x-request-id"))
                if error.retry_after is None and response.headers.get("retry-after", "").isdigit():
                    error.retry_after = float(response.headers["retry-after"])
                if response.status in (429, 503) and attempt < self.max_retries:
                    attempt += 1
                    time.sleep(min(error.retry_after if error.retry_after is not None else 1.0, self.max_retry_wait))
                    continue
                raise error from None
            except urllib.error.URLError as failure:
                raise KaminaError("NETWORK_ERROR", f"{method} {url}: {failure.reason}") from failure

    @staticmethod
    def _read(status: int, headers: Any, raw: bytes) -> Response:
        plain = {key.lower(): value for key, value in headers.items()}
        body: Any = raw
        content_type = plain.get("content-type", "")
        if "json" in content_type and "jsonl" not in content_type and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode("utf-8", "replace")
        elif content_type.startswith("text/"):
            body = raw.decode("utf-8", "replace")
        return Response(status, plain, body, raw)

    def _bearer(self) -> str:
        if self.tokens is None:
            raise KaminaError("NO_TOKEN", "no consent token: call request_consent() or give tokens=")
        if self.tokens.expires_soon() and self.tokens.refresh_token:
            self.refresh()
        return f"{self.tokens.token_type} {self.tokens.access_token}"

    def _partner_bearer(self) -> str:
        if self.partner_tokens is None or self.partner_tokens.expires_soon():
            self.client_credentials()
        assert self.partner_tokens is not None
        return f"{self.partner_tokens.token_type} {self.partner_tokens.access_token}"

    def _as_person(self, method: str, path: str, *, user_id: str | None = None, **options: Any) -> Any:
        """A data route: the consent token reads its own person; with ``user_id`` the partner token."""
        if user_id is not None:
            if method == "GET":
                options["query"] = {**(options.get("query") or {}), "user_id": user_id}
            else:
                options["json_body"] = {**(options.get("json_body") or {}), "user_id": user_id}
            return self.request(method, path, auth=self._partner_bearer(), **options).body
        try:
            return self.request(method, path, auth=self._bearer(), **options).body
        except KaminaError as error:
            # An access token that expired early (clock skew): refresh once and try again.
            if error.code == "UNAUTHENTICATED" and self.tokens is not None and self.tokens.refresh_token and self.tokens.expires_soon(60):
                self.refresh()
                return self.request(method, path, auth=self._bearer(), **options).body
            raise

    def _store(self, tokens: Tokens) -> Tokens:
        self.tokens = tokens
        if self.on_tokens is not None:
            self.on_tokens(tokens)
        return tokens

    # ------------------------------------------------------------------ consent and tokens

    def request_consent(self, user_external_id: str, scopes: list[str], country: str, consent_text_version: str) -> ConsentAnswer:
        """``POST /v1/auth/consent``. A sandbox client gets its tokens at once (kept as :attr:`tokens`);
        a live client gets ``awaiting`` and exchanges the consent once the person authorised it."""
        answer = self.request(
            "POST",
            "/v1/auth/consent",
            auth=self._basic,
            json_body={
                "client_id": self.client_id,
                "user_external_id": user_external_id,
                "scopes": list(scopes),
                "country": country,
                "consent_text_version": consent_text_version,
            },
        )
        body = answer.body
        if answer.status == 200 and "access_token" in body:
            tokens = self._store(Tokens.from_answer(body))
            return ConsentAnswer(str(body["consent_id"]), "AUTHORISED", tokens, body)
        return ConsentAnswer(str(body["consent_id"]), str(body.get("status", "AWAITING_AUTHORISATION")), None, body)

    def exchange_consent(self, consent_id: str) -> Tokens:
        """``POST /v1/auth/token`` with ``urn:kamina:consent``: an authorised consent's tokens, once.
        Raises :class:`AuthorisationPending` while the person has not answered."""
        try:
            answer = self.request("POST", "/v1/auth/token", auth=self._basic, form={"grant_type": "urn:kamina:consent", "consent_id": consent_id})
        except KaminaError as error:
            if error.code == "AUTHORISATION_PENDING":
                raise AuthorisationPending(error.code, error.message, status=error.status, request_id=error.request_id, body=error.body) from None
            raise
        return self._store(Tokens.from_answer(answer.body))

    def wait_for_authorisation(self, consent_id: str, *, interval: float = 2.0, timeout: float = 300.0) -> Tokens:
        """Polls :meth:`exchange_consent` until the person answers (``INVALID_GRANT`` if they reject)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.exchange_consent(consent_id)
            except AuthorisationPending:
                if time.monotonic() + interval > deadline:
                    raise
                time.sleep(interval)

    def refresh(self) -> Tokens:
        """Spends the refresh token for new tokens and keeps only the newest refresh token.

        Raises :class:`RefreshTokenRejected` when the server refuses it; a reused token revokes
        the whole family, so the client then holds no tokens: ask for a new consent.
        """
        with self._refresh_lock:
            if self.tokens is None or not self.tokens.refresh_token:
                raise KaminaError("NO_TOKEN", "no refresh token to spend")
            spent = self.tokens.refresh_token
            try:
                answer = self.request("POST", "/v1/auth/token", auth=self._basic, form={"grant_type": "refresh_token", "refresh_token": spent})
            except KaminaError as error:
                if error.code == "INVALID_GRANT":
                    self.tokens = None
                    raise RefreshTokenRejected(error) from None
                raise
            tokens = Tokens.from_answer(answer.body)
            if tokens.consent_id is None:
                tokens.consent_id = self.tokens.consent_id
            return self._store(tokens)

    def client_credentials(self, scope: str | None = None) -> Tokens:
        """The partner's own token (no refresh token), kept as :attr:`partner_tokens`."""
        form = {"grant_type": "client_credentials"}
        if scope:
            form["scope"] = scope
        self.partner_tokens = Tokens.from_answer(self.request("POST", "/v1/auth/token", auth=self._basic, form=form).body)
        return self.partner_tokens

    def revoke_token(self, token: str) -> None:
        """``POST /v1/auth/revoke`` (RFC 7009): an access token, or a refresh token and its family."""
        self.request("POST", "/v1/auth/revoke", auth=self._basic, form={"token": token})

    def get_consent(self, consent_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/consents/{urllib.parse.quote(consent_id)}", auth=self._basic).body

    def revoke_consent(self, consent_id: str, reason: str | None = None) -> dict[str, Any]:
        """``DELETE /v1/consents/{id}``: every token of the consent then fails with 401 ``CONSENT_REVOKED``."""
        return self.request("DELETE", f"/v1/consents/{urllib.parse.quote(consent_id)}", auth=self._basic, query={"reason": reason}).body

    def consent_receipts(self, consent_id: str, *, limit: int | None = None, cursor: str | None = None) -> dict[str, Any]:
        return self.request("GET", f"/v1/consents/{urllib.parse.quote(consent_id)}/receipts", auth=self._basic, query={"limit": limit, "cursor": cursor}).body

    # ------------------------------------------------------------------ REST routes

    def diagnosis_latest(self, *, user_id: str | None = None) -> dict[str, Any]:
        return self._as_person("GET", "/v1/diagnosis/latest", user_id=user_id)

    def run_diagnosis(self, *, user_id: str | None = None) -> dict[str, Any]:
        return self._as_person("POST", "/v1/diagnosis/run", user_id=user_id)

    def alerts_since(self, since: Any, *, limit: int | None = None, user_id: str | None = None) -> list[dict[str, Any]]:
        """``GET /v1/alerts?since=``: the first page of the person's alerts since an instant (a
        datetime or ISO 8601), oldest first in publication order. To poll, use :meth:`alerts_page`."""
        return self._as_person("GET", "/v1/alerts", user_id=user_id, query={"since": since, "limit": limit})["items"]

    def alerts_page(
        self, *, since: Any = None, cursor: str | None = None, limit: int | None = None, user_id: str | None = None
    ) -> dict[str, Any]:
        """One page of ``GET /v1/alerts``: ``{"items", "page": {"next_cursor", "has_more"}}``. Keep
        ``page["next_cursor"]`` and pass it back as ``cursor`` (again while ``has_more``, then on every
        poll): no alert is missed, one published a moment ago may come twice (dedupe by ``id``)."""
        return self._as_person("GET", "/v1/alerts", user_id=user_id, query={"since": since, "cursor": cursor, "limit": limit})

    def acknowledge_alert(self, alert_id: str) -> dict[str, Any]:
        """``POST /v1/alerts/{id}/acknowledge`` (needs ``alerts.write``): the alert, ``acknowledged``."""
        return self._as_person("POST", f"/v1/alerts/{urllib.parse.quote(alert_id, safe='')}/acknowledge")

    def resolve_alert(self, alert_id: str) -> dict[str, Any]:
        """``POST /v1/alerts/{id}/resolve`` (needs ``alerts.write``): the alert, ``resolved``."""
        return self._as_person("POST", f"/v1/alerts/{urllib.parse.quote(alert_id, safe='')}/resolve")

    def debts(self, *, status: str | None = None, user_id: str | None = None) -> list[dict[str, Any]]:
        """``GET /v1/debts``: open debts (every status but ``paid_off``), or those of one ``status``."""
        return self._as_person("GET", "/v1/debts", user_id=user_id, query={"status": status})["items"]

    def expenses_page(
        self, from_: Any, to: Any, *, category: str | None = None, limit: int | None = None, cursor: str | None = None, user_id: str | None = None
    ) -> dict[str, Any]:
        """One page of ``GET /v1/expenses``: ``{"items", "page": {"next_cursor", ...}}``."""
        query = {"from": from_, "to": to, "category": category, "limit": limit, "cursor": cursor}
        return self._as_person("GET", "/v1/expenses", user_id=user_id, query=query)

    def expenses(
        self, from_: Any, to: Any, *, category: str | None = None, page_size: int | None = None, user_id: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every transaction from ``from_`` to ``to`` (inclusive dates), newest first, following
        ``page.next_cursor`` page after page as the iterator is consumed."""
        cursor: str | None = None
        while True:
            page = self.expenses_page(from_, to, category=category, limit=page_size, cursor=cursor, user_id=user_id)
            yield from page["items"]
            cursor = (page.get("page") or {}).get("next_cursor")
            if not cursor:
                return

    def coach_sessions(self, *, from_: Any = None, to: Any = None, user_id: str | None = None) -> list[dict[str, Any]]:
        return self._as_person("GET", "/v1/coach/sessions", user_id=user_id, query={"from": from_, "to": to})["items"]

    def export_debts(self, format: str = "json", *, user_id: str | None = None) -> Any:
        """``GET /v1/exports/debts``: a dict (``as_of``, ``items``) for json, the CSV text for csv."""
        return self._as_person("GET", "/v1/exports/debts", user_id=user_id, query={"format": format})

    def raise_sandbox_alert(self, type: str, *, user_id: str | None = None) -> dict[str, Any]:
        """``POST /v1/sandbox/alerts`` (sandbox clients): a test alert, delivered as a real one."""
        return self._as_person("POST", "/v1/sandbox/alerts", user_id=user_id, json_body={"type": type})

    def create_wellness_export(self, format: str = "csv") -> dict[str, Any]:
        """``POST /v1/exports/wellness`` with the partner token: the job, ``queued``."""
        return self.request("POST", "/v1/exports/wellness", auth=self._partner_bearer(), json_body={"format": format}).body

    def get_wellness_export(self, export_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/exports/wellness/{urllib.parse.quote(export_id)}", auth=self._partner_bearer()).body

    def wait_for_wellness_export(self, export_id: str, *, interval: float = 0.5, timeout: float = 300.0) -> dict[str, Any]:
        """Polls the job until it is ``succeeded`` (returned) or ``failed``/``expired`` (raised)."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.get_wellness_export(export_id)
            if job.get("status") == "succeeded":
                return job
            if job.get("status") in ("failed", "expired"):
                raise KaminaError("EXPORT_" + str(job["status"]).upper(), str(job.get("error") or job["status"]), body=job)
            if time.monotonic() + interval > deadline:
                raise KaminaError("TIMEOUT", f"export {export_id} still {job.get('status')} after {timeout} s", body=job)
            time.sleep(interval)

    def download_wellness_export(self, job_or_url: Mapping[str, Any] | str) -> bytes:
        """The file of a succeeded job (its signed ``download_url`` needs no token)."""
        url = job_or_url if isinstance(job_or_url, str) else str(job_or_url["download_url"])
        return self.request("GET", url, headers={"accept": "*/*"}).raw

    def prevention_report(self, period: str) -> dict[str, Any]:
        """``GET /v1/reports/prevention?period=2026Q1`` (or ``2026-03``, ``2026``) with the partner token."""
        return self.request("GET", "/v1/reports/prevention", auth=self._partner_bearer(), query={"period": period}).body

    # ------------------------------------------------------------------ webhook endpoints

    def register_webhook(self, url: str, events: list[str]) -> dict[str, Any]:
        """``POST /v1/webhooks``: the endpoint, with its ``secret`` (``whsec_...``) shown once."""
        return self.request("POST", "/v1/webhooks", auth=self._basic, json_body={"url": url, "events": list(events)}).body

    def delete_webhook(self, endpoint_id: str) -> None:
        self.request("DELETE", f"/v1/webhooks/{urllib.parse.quote(endpoint_id)}", auth=self._basic)

    # ------------------------------------------------------------------ GraphQL

    def graphql(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        operation_name: str | None = None,
        as_partner: bool = False,
        allow_partial: bool = False,
    ) -> Any:
        """``POST /graphql``; returns ``data``. Any error raises :class:`GraphQLError` carrying
        ``extensions.code`` (and the partial ``data``), unless ``allow_partial`` and data came back."""
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = dict(variables)
        if operation_name is not None:
            body["operationName"] = operation_name

        def send(auth: str) -> Response:
            try:
                return self.request("POST", "/graphql", auth=auth, json_body=body)
            except KaminaError as error:
                if isinstance(error.body, dict) and isinstance(error.body.get("errors"), list):
                    raise GraphQLError(error.body["errors"], error.body.get("data"), status=error.status, request_id=error.request_id) from None
                raise

        if as_partner:
            answer = send(self._partner_bearer())
        else:
            try:
                answer = send(self._bearer())
            except GraphQLError as error:
                if error.code == "UNAUTHENTICATED" and self.tokens is not None and self.tokens.refresh_token and self.tokens.expires_soon(60):
                    self.refresh()
                    answer = send(self._bearer())
                else:
                    raise
        result = answer.body if isinstance(answer.body, dict) else {}
        errors = result.get("errors")
        if errors and not (allow_partial and result.get("data") is not None):
            raise GraphQLError(errors, result.get("data"), status=answer.status, request_id=answer.headers.get("x-request-id"))
        return result.get("data")
