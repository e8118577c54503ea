"""Live tests against a running kamina-graph (`npm start`, or test/python-sdk.test.ts's child).

Environment: KAMINA_BASE_URL (the gateway's origin), KAMINA_CLIENT_ID and KAMINA_CLIENT_SECRET
(a sandbox client), optionally KAMINA_USER_ID, KAMINA_COUNTRY, KAMINA_CONSENT_TEXT_VERSION, and
for the live-client flow KAMINA_LIVE_CLIENT_ID, KAMINA_LIVE_CLIENT_SECRET and KAMINA_APP_KEY.
Without KAMINA_BASE_URL every test here is skipped, saying so.
"""

import csv
import datetime as dt
import io
import json
import os
import queue
import sys
import threading
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kamina import (  # noqa: E402
    AuthorisationPending,
    GraphQLError,
    KaminaClient,
    KaminaError,
    RefreshTokenRejected,
    Tokens,
    verify_webhook,
)

BASE_URL = os.environ.get("KAMINA_BASE_URL", "")
CLIENT_ID = os.environ.get("KAMINA_CLIENT_ID", "of_lab_demo")
CLIENT_SECRET = os.environ.get("KAMINA_CLIENT_SECRET", "")
USER_ID = os.environ.get("KAMINA_USER_ID", "USR_42891")
COUNTRY = os.environ.get("KAMINA_COUNTRY", "MX")
TEXT_VERSION = os.environ.get("KAMINA_CONSENT_TEXT_VERSION", "2026-05-01")
LIVE_CLIENT_ID = os.environ.get("KAMINA_LIVE_CLIENT_ID", "")
LIVE_CLIENT_SECRET = os.environ.get("KAMINA_LIVE_CLIENT_SECRET", "")
APP_KEY = os.environ.get("KAMINA_APP_KEY", "")
ALL_SCOPES = ["wellness.read", "debts.read", "expenses.read", "coach.read", "alerts.read"]

SKIP_REASON = (
    "live tests need a running stack: set KAMINA_BASE_URL (e.g. http://127.0.0.1:4000) and "
    "KAMINA_CLIENT_SECRET (the sandbox client's secret; KAMINA_CLIENT_ID defaults to of_lab_demo)"
)
LIVE = bool(BASE_URL and CLIENT_SECRET)


def consented(scopes=ALL_SCOPES) -> KaminaClient:
    client = KaminaClient(BASE_URL, CLIENT_ID, CLIENT_SECRET)
    answer = client.request_consent(USER_ID, scopes, COUNTRY, TEXT_VERSION)
    assert not answer.awaiting, answer.body
    return client


DEBTS_QUERY = """
query Debts($status: DebtStatus) {
  me { id debts(status: $status) { issuer balance apr dueDate } }
}
"""


@unittest.skipUnless(LIVE, SKIP_REASON)
class TestConsentFlow(unittest.TestCase):
    def test_consent_rest_graphql_refresh_webhook_revoke(self):
        client = KaminaClient(BASE_URL, CLIENT_ID, CLIENT_SECRET)
        seen = []
        client.on_tokens = seen.append

        # Consent: a sandbox client's tokens come at once.
        answer = client.request_consent(USER_ID, ALL_SCOPES, COUNTRY, TEXT_VERSION)
        self.assertFalse(answer.awaiting)
        self.assertEqual(answer.status, "AUTHORISED")
        self.assertTrue(answer.consent_id.startswith("cns_"))
        self.assertTrue(answer.tokens.refresh_token.startswith("rf_"))
        self.assertEqual(client.tokens, answer.tokens)
        self.assertEqual(client.get_consent(answer.consent_id)["status"], "AUTHORISED")

        # REST: the open debts.
        debts = client.debts()
        self.assertGreater(len(debts), 0)
        self.assertTrue(all("issuer" in debt and "apr" in debt for debt in debts), debts)

        # GraphQL with variables.
        data = client.graphql(DEBTS_QUERY, {"status": None})
        self.assertEqual(data["me"]["id"], USER_ID)
        self.assertEqual(len(data["me"]["debts"]), len(debts))

        # Refresh rotation: a new refresh token, only the newest kept, and the new access token reads.
        first = client.tokens
        second = client.refresh()
        self.assertNotEqual(second.refresh_token, first.refresh_token)
        self.assertNotEqual(second.access_token, first.access_token)
        self.assertIs(client.tokens, second)
        self.assertEqual(second.consent_id, answer.consent_id)
        self.assertEqual([tokens.refresh_token for tokens in seen], [first.refresh_token, second.refresh_token])
        self.assertEqual(len(client.debts()), len(debts))

        # Revoke: the very next read fails with CONSENT_REVOKED, and nothing refreshes any more.
        revoked = client.revoke_consent(answer.consent_id, reason="python sdk test")
        self.assertEqual(revoked["status"], "REVOKED")
        with self.assertRaises(KaminaError) as caught:
            client.debts()
        self.assertEqual(caught.exception.code, "CONSENT_REVOKED")
        self.assertEqual(caught.exception.status, 401)
        self.assertTrue(caught.exception.request_id)
        with self.assertRaises(GraphQLError) as caught_graphql:
            client.graphql(DEBTS_QUERY)
        self.assertEqual(caught_graphql.exception.code, "CONSENT_REVOKED")
        with self.assertRaises(RefreshTokenRejected):
            client.refresh()

    def test_a_reused_refresh_token_is_refused_and_revokes_the_family(self):
        client = consented(["debts.read"])
        spent = client.tokens.refresh_token
        newest = client.refresh()
        self.assertNotEqual(newest.refresh_token, spent)

        # A copy of the spent token (a thief, or a stale store) is refused...
        stale = KaminaClient(BASE_URL, CLIENT_ID, CLIENT_SECRET, tokens=Tokens(access_token=newest.access_token, refresh_token=spent))
        with self.assertRaises(RefreshTokenRejected) as caught:
            stale.refresh()
        self.assertEqual(caught.exception.code, "INVALID_GRANT")
        self.assertEqual(caught.exception.status, 400)
        self.assertIn("new consent", str(caught.exception))
        self.assertIsNone(stale.tokens)

        # ...and the reuse revoked the whole family: the newest refresh token fails as well.
        with self.assertRaises(RefreshTokenRejected):
            client.refresh()

    def test_a_live_client_waits_for_the_person(self):
        if not (LIVE_CLIENT_ID and LIVE_CLIENT_SECRET and APP_KEY):
            self.skipTest("set KAMINA_LIVE_CLIENT_ID, KAMINA_LIVE_CLIENT_SECRET and KAMINA_APP_KEY for the live-client flow")
        client = KaminaClient(BASE_URL, LIVE_CLIENT_ID, LIVE_CLIENT_SECRET)
        answer = client.request_consent(USER_ID, ["debts.read"], COUNTRY, TEXT_VERSION)
        self.assertTrue(answer.awaiting)
        self.assertEqual(answer.status, "AWAITING_AUTHORISATION")
        self.assertIsNone(client.tokens)
        with self.assertRaises(AuthorisationPending) as caught:
            client.exchange_consent(answer.consent_id)
        self.assertEqual(caught.exception.code, "AUTHORISATION_PENDING")

        # The person authorises in the Kamina app (its key), then the client exchanges once.
        app = urllib.request.Request(f"{BASE_URL}/v1/consents/{answer.consent_id}/authorise", method="POST", headers={"x-kamina-app-key": APP_KEY})
        with urllib.request.urlopen(app, timeout=30) as response:
            self.assertEqual(response.status, 200)
        tokens = client.wait_for_authorisation(answer.consent_id, interval=0.2, timeout=10)
        self.assertEqual(tokens.consent_id, answer.consent_id)
        self.assertIsInstance(client.debts(), list)
        with self.assertRaises(KaminaError) as again:
            client.exchange_consent(answer.consent_id)
        self.assertEqual(again.exception.code, "INVALID_GRANT")


@unittest.skipUnless(LIVE, SKIP_REASON)
class TestRestRoutes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = consented()

    def test_diagnosis_run_and_latest(self):
        run = self.client.run_diagnosis()
        latest = self.client.diagnosis_latest()
        self.assertIsInstance(run, dict)
        self.assertIsInstance(latest, dict)
        self.assertTrue(latest, latest)

    def test_alerts_since(self):
        raised = self.client.raise_sandbox_alert("expense_spike_food")
        self.assertTrue(raised["sandbox"])
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1)
        alerts = self.client.alerts_since(since.isoformat().replace("+00:00", "Z"), limit=100)
        self.assertIn(raised["id"], [alert["id"] for alert in alerts])

    def test_alerts_page_by_cursor_then_acknowledge_and_resolve(self):
        writer = consented(ALL_SCOPES + ["alerts.write"])
        raised = writer.raise_sandbox_alert("expense_spike_food")
        seen, cursor = [], None
        while True:
            page = writer.alerts_page(cursor=cursor, limit=5)
            seen += [alert["id"] for alert in page["items"]]
            cursor = page["page"]["next_cursor"]
            if not page["page"]["has_more"]:
                break
        self.assertIn(raised["id"], seen)
        self.assertEqual(writer.alerts_page(cursor=cursor)["page"]["next_cursor"], cursor, "nothing new: the same cursor")
        with self.assertRaises(KaminaError) as refused:
            self.client.acknowledge_alert(raised["id"])  # a consent to read alerts changes nothing
        self.assertEqual(refused.exception.code, "UNAUTHORIZED_FIELD_OR_TYPE")
        acknowledged = writer.acknowledge_alert(raised["id"])
        self.assertEqual(acknowledged["status"], "acknowledged")
        self.assertTrue(acknowledged["acknowledged_at"])
        resolved = writer.resolve_alert(raised["id"])
        self.assertEqual((resolved["status"], resolved["acknowledged_at"]), ("resolved", acknowledged["acknowledged_at"]))
        self.assertTrue(resolved["resolved_at"])

    def test_expenses_page_by_page(self):
        today = dt.date.today()
        start = today - dt.timedelta(days=90)
        whole = self.client.expenses_page(start, today, limit=500)
        self.assertGreater(len(whole["items"]), 5, "the demo person has more than five transactions in 90 days")
        paged = list(self.client.expenses(start, today, page_size=5))
        self.assertEqual([item["id"] for item in paged], [item["id"] for item in whole["items"]])
        self.assertTrue(all("mcc" in item and "category" in item for item in paged))

    def test_coach_sessions(self):
        self.assertIsInstance(self.client.coach_sessions(), list)

    def test_debt_export_json_and_csv(self):
        exported = self.client.export_debts("json")
        self.assertIn("as_of", exported)
        rows = list(csv.DictReader(io.StringIO(self.client.export_debts("csv"))))
        self.assertEqual(len(rows), len(exported["items"]))

    def test_the_error_envelope(self):
        with self.assertRaises(KaminaError) as caught:
            self.client.debts(status="whatever")
        error = caught.exception
        self.assertEqual((error.status, error.code), (400, "BAD_USER_INPUT"))
        self.assertIn("status", error.message)
        self.assertIsNone(error.retry_after)
        self.assertTrue(error.request_id)

    def test_a_partner_reads_a_person_by_user_id(self):
        self.assertEqual(len(self.client.debts(user_id=USER_ID)), len(self.client.debts()))

    def test_wellness_export_create_poll_download(self):
        job = self.client.create_wellness_export("csv")
        self.assertEqual(job["status"], "queued")
        done = self.client.wait_for_wellness_export(job["id"], interval=0.3, timeout=60)
        rows = list(csv.DictReader(io.StringIO(self.client.download_wellness_export(done).decode("utf-8"))))
        self.assertEqual(len(rows), done["rows"])
        self.assertIn(USER_ID, [row["user_id"] for row in rows])

    def test_prevention_report(self):
        report = self.client.prevention_report("2026Q1")
        self.assertEqual((report["period"], report["client_id"]), ("2026Q1", CLIENT_ID))
        with self.assertRaises(KaminaError) as caught:
            self.client.prevention_report("2026Q5")
        self.assertEqual(caught.exception.code, "BAD_USER_INPUT")


@unittest.skipUnless(LIVE, SKIP_REASON)
class TestGraphQL(unittest.TestCase):
    def test_a_field_not_granted_raises_with_its_code_and_the_partial_data(self):
        client = consented(["debts.read"])
        query = "query { me { id debts { issuer } coachSessions { intent } } }"
        with self.assertRaises(GraphQLError) as caught:
            client.graphql(query)
        self.assertEqual(caught.exception.code, "UNAUTHORIZED_FIELD_OR_TYPE")
        self.assertIsNone(caught.exception.data["me"]["coachSessions"])
        partial = client.graphql(query, allow_partial=True)
        self.assertIsInstance(partial["me"]["debts"], list)

    def test_an_unknown_field_is_a_validation_error(self):
        client = consented(["debts.read"])
        with self.assertRaises(GraphQLError) as caught:
            client.graphql("query { me { noSuchField } }")
        self.assertEqual(caught.exception.code, "GRAPHQL_VALIDATION_FAILED")
        self.assertEqual(caught.exception.status, 400)


class _Receiver(BaseHTTPRequestHandler):
    deliveries: "queue.Queue[tuple[dict, bytes]]" = queue.Queue()

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        self.deliveries.put(({key.lower(): value for key, value in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):  # quiet
        pass


@unittest.skipUnless(LIVE, SKIP_REASON)
class TestWebhookDelivery(unittest.TestCase):
    def test_a_real_delivery_verifies(self):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        client = consented(["alerts.read"])
        endpoint = client.register_webhook(f"http://127.0.0.1:{server.server_address[1]}/hooks", ["alert.created"])
        try:
            self.assertTrue(endpoint["secret"].startswith("whsec_"))
            client.raise_sandbox_alert("expense_spike_food")
            headers, body = _Receiver.deliveries.get(timeout=30)
            payload = verify_webhook(endpoint["secret"], headers, body)
            self.assertEqual((payload["event"], payload["user_id"]), ("alert.created", USER_ID))
            self.assertEqual(payload["id"], headers["webhook-id"])
            tampered = body.replace(b"alert.created", b"alert.deleted")
            with self.assertRaises(Exception):
                verify_webhook(endpoint["secret"], headers, tampered)
        finally:
            client.delete_webhook(endpoint["id"])
            server.shutdown()
            server.server_close()


@unittest.skipUnless(LIVE, SKIP_REASON)
class TestReadmeExample(unittest.TestCase):
    def test_the_readme_example_runs(self):
        readme = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "README.md")
        with open(readme, encoding="utf-8") as handle:
            text = handle.read()
        example = text.split("```python\n", 1)[1].split("```", 1)[0]
        self.assertLessEqual(len(example.strip().splitlines()), 10, "the README's example is ten lines at most")
        example = example.replace('"http://localhost:4000"', repr(BASE_URL)).replace('"of_lab_demo"', repr(CLIENT_ID)).replace('"kamina-sandbox-secret"', repr(CLIENT_SECRET))
        printed = io.StringIO()
        stdout, sys.stdout = sys.stdout, printed
        try:
            exec(compile(example, "sdk/python/README.md", "exec"), {})
        finally:
            sys.stdout = stdout
        lines = printed.getvalue().splitlines()
        self.assertGreater(len(lines), 2, lines)
        self.assertTrue(lines[-1].startswith("{'me': {'debts':"), lines[-1])


if __name__ == "__main__":
    unittest.main()
