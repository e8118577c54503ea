"""Pure tests of the transport against a stub server on loopback: the error envelope becomes a
KaminaError, a 429's retry_after is honoured when retries are asked for, and a refresh refused
with INVALID_GRANT is a RefreshTokenRejected that drops the tokens."""

import json
import os
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kamina import GraphQLError, KaminaClient, KaminaError, RefreshTokenRejected, Tokens  # noqa: E402


class Stub(BaseHTTPRequestHandler):
    """Answers from a script: a list of (status, body) per path, the last one repeated."""

    script: dict = {}
    calls: list = []

    def _answer(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.calls.append((self.command, self.path, {key.lower(): value for key, value in self.headers.items()}, body))
        path = self.path.split("?")[0]
        steps = self.script.get(path) or [(404, {"code": "NOT_FOUND", "message": "no route", "retry_after": None, "request_id": "req_stub"})]
        status, answer = steps.pop(0) if len(steps) > 1 else steps[0]
        raw = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        self.send_header("x-request-id", "req_header")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, *args):
        pass


class TestTransport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(("127.0.0.1", 0), Stub)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        Stub.script = {}
        Stub.calls = []

    def client(self, **options):
        return KaminaClient(self.base, "of_test", "secret", tokens=Tokens(access_token="at", refresh_token="rf_1", expires_in=3600), **options)

    def test_the_envelope_becomes_a_kamina_error(self):
        Stub.script["/v1/debts"] = [(400, {"code": "BAD_USER_INPUT", "message": "status: bad", "retry_after": None, "request_id": "req_1"})]
        with self.assertRaises(KaminaError) as caught:
            self.client().debts(status="bad")
        error = caught.exception
        self.assertEqual((error.status, error.code, error.message, error.retry_after, error.request_id), (400, "BAD_USER_INPUT", "status: bad", None, "req_1"))
        self.assertEqual(Stub.calls[0][1], "/v1/debts?status=bad")
        self.assertEqual(Stub.calls[0][2]["authorization"], "Bearer at")

    def test_a_429_is_raised_with_retry_after_when_no_retry_is_asked(self):
        Stub.script["/v1/debts"] = [(429, {"code": "RATE_LIMITED", "message": "slow down", "retry_after": 7, "request_id": "req_2"})]
        with self.assertRaises(KaminaError) as caught:
            self.client().debts()
        self.assertEqual((caught.exception.code, caught.exception.retry_after), ("RATE_LIMITED", 7.0))
        self.assertEqual(len(Stub.calls), 1)

    def test_a_429_is_retried_after_retry_after(self):
        Stub.script["/v1/debts"] = [
            (429, {"code": "RATE_LIMITED", "message": "slow down", "retry_after": 0.2, "request_id": "req_3"}),
            (200, {"items": [{"id": "dbt_1"}], "page": {"next_cursor": None}}),
        ]
        started = time.monotonic()
        self.assertEqual(self.client(max_retries=2).debts(), [{"id": "dbt_1"}])
        self.assertGreaterEqual(time.monotonic() - started, 0.2)
        self.assertEqual(len(Stub.calls), 2)

    def test_retries_stop_after_max_retries(self):
        Stub.script["/v1/debts"] = [(429, {"code": "RATE_LIMITED", "message": "slow down", "retry_after": 0, "request_id": "req_4"})]
        with self.assertRaises(KaminaError):
            self.client(max_retries=2).debts()
        self.assertEqual(len(Stub.calls), 3)

    def test_a_body_that_is_not_the_envelope(self):
        Stub.script["/v1/debts"] = [(502, ["not", "an", "envelope"])]
        with self.assertRaises(KaminaError) as caught:
            self.client().debts()
        self.assertEqual((caught.exception.code, caught.exception.status, caught.exception.request_id), ("HTTP_502", 502, "req_header"))

    def test_rotation_keeps_only_the_newest_refresh_token(self):
        Stub.script["/v1/auth/token"] = [(200, {"access_token": "at2", "refresh_token": "rf_2", "expires_in": 3600, "token_type": "Bearer"})]
        stored = []
        client = self.client(on_tokens=stored.append)
        tokens = client.refresh()
        self.assertEqual((tokens.access_token, tokens.refresh_token), ("at2", "rf_2"))
        self.assertEqual([t.refresh_token for t in stored], ["rf_2"])
        method, path, headers, body = Stub.calls[0]
        self.assertEqual((method, path, body), ("POST", "/v1/auth/token", "grant_type=refresh_token&refresh_token=rf_1"))
        self.assertTrue(headers["authorization"].startswith("Basic "))

    def test_a_refused_refresh_is_refresh_token_rejected(self):
        Stub.script["/v1/auth/token"] = [(400, {"code": "INVALID_GRANT", "message": "The refresh token is not valid", "retry_after": None, "request_id": "req_5", "error": "invalid_grant"})]
        client = self.client()
        with self.assertRaises(RefreshTokenRejected) as caught:
            client.refresh()
        self.assertEqual(caught.exception.code, "INVALID_GRANT")
        self.assertIn("family", caught.exception.message)
        self.assertIsNone(client.tokens)

    def test_graphql_errors_carry_extensions_code(self):
        Stub.script["/graphql"] = [(200, {"data": {"me": None}, "errors": [{"message": "no", "extensions": {"code": "CONSENT_REVOKED"}}]})]
        with self.assertRaises(GraphQLError) as caught:
            self.client().graphql("query($id: ID) { me { id } }", {"id": "x"})
        self.assertEqual((caught.exception.code, caught.exception.codes, caught.exception.data), ("CONSENT_REVOKED", ["CONSENT_REVOKED"], {"me": None}))
        self.assertEqual(json.loads(Stub.calls[0][3]), {"query": "query($id: ID) { me { id } }", "variables": {"id": "x"}})

    def test_an_expenses_iterator_follows_next_cursor(self):
        Stub.script["/v1/expenses"] = [
            (200, {"items": [{"id": 1}, {"id": 2}], "page": {"next_cursor": "c2"}}),
            (200, {"items": [{"id": 3}], "page": {"next_cursor": None}}),
        ]
        self.assertEqual([item["id"] for item in self.client().expenses("2026-01-01", "2026-03-31", page_size=2)], [1, 2, 3])
        self.assertEqual([call[1] for call in Stub.calls], ["/v1/expenses?from=2026-01-01&to=2026-03-31&limit=2", "/v1/expenses?from=2026-01-01&to=2026-03-31&limit=2&cursor=c2"])

    def test_a_network_failure(self):
        client = KaminaClient("http://127.0.0.1:9", "of_test", "secret", timeout=2)
        with self.assertRaises(KaminaError) as caught:
            client.client_credentials()
        self.assertEqual(caught.exception.code, "NETWORK_ERROR")


if __name__ == "__main__":
    unittest.main()
