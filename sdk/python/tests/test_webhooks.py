"""Pure tests of webhook verification: the Standard Webhooks test vector, the tolerance window,
a tampered body, several signatures. No server needed."""

import base64
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kamina import Webhook, WebhookVerificationError, sign, verify_webhook  # noqa: E402

# The specification's test vector (also in test/webhooks.test.ts).
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
BODY = '{"test": 2432232314}'
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(signature: str = SIGNATURE, msg_id: str = MSG_ID, timestamp: int = TIMESTAMP) -> dict:
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


class TestStandardWebhooksVector(unittest.TestCase):
    def test_sign_reproduces_the_vector(self):
        self.assertEqual(sign(SECRET, MSG_ID, TIMESTAMP, BODY), SIGNATURE)

    def test_the_vector_verifies_and_returns_the_payload(self):
        self.assertEqual(verify_webhook(SECRET, headers(), BODY, now=TIMESTAMP), {"test": 2432232314})
        self.assertEqual(verify_webhook(SECRET, headers(), BODY.encode(), now=TIMESTAMP + 10), {"test": 2432232314})

    def test_header_names_are_case_insensitive(self):
        upper = {"Webhook-Id": MSG_ID, "Webhook-Timestamp": str(TIMESTAMP), "Webhook-Signature": SIGNATURE}
        self.assertEqual(verify_webhook(SECRET, upper, BODY, now=TIMESTAMP), {"test": 2432232314})

    def test_a_tampered_body_is_refused(self):
        with self.assertRaisesRegex(WebhookVerificationError, "no matching signature"):
            verify_webhook(SECRET, headers(), '{"test": 2432232315}', now=TIMESTAMP)

    def test_a_tampered_id_or_timestamp_is_refused(self):
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(SECRET, headers(msg_id="msg_other"), BODY, now=TIMESTAMP)
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(SECRET, headers(timestamp=TIMESTAMP + 1), BODY, now=TIMESTAMP)

    def test_another_secret_is_refused(self):
        other = "whsec_" + base64.b64encode(b"another secret of 24 byte").decode()
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(other, headers(), BODY, now=TIMESTAMP)


class TestToleranceWindow(unittest.TestCase):
    def test_inside_five_minutes_either_way(self):
        verify_webhook(SECRET, headers(), BODY, now=TIMESTAMP + 300)
        verify_webhook(SECRET, headers(), BODY, now=TIMESTAMP - 300)

    def test_too_old_is_refused(self):
        with self.assertRaisesRegex(WebhookVerificationError, "too old"):
            verify_webhook(SECRET, headers(), BODY, now=TIMESTAMP + 301)

    def test_too_new_is_refused(self):
        with self.assertRaisesRegex(WebhookVerificationError, "too new"):
            verify_webhook(SECRET, headers(), BODY, now=TIMESTAMP - 301)

    def test_the_window_can_be_set(self):
        verify_webhook(SECRET, headers(), BODY, now=TIMESTAMP + 3600, tolerance_seconds=3600)
        with self.assertRaises(WebhookVerificationError):
            verify_webhook(SECRET, headers(), BODY, now=TIMESTAMP + 61, tolerance_seconds=60)

    def test_the_real_clock_refuses_a_2021_timestamp(self):
        with self.assertRaisesRegex(WebhookVerificationError, "too old"):
            verify_webhook(SECRET, headers(), BODY)


class TestMalformedHeaders(unittest.TestCase):
    def test_missing_headers(self):
        for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
            partial = {key: value for key, value in headers().items() if key != name}
            with self.assertRaisesRegex(WebhookVerificationError, "missing"):
                verify_webhook(SECRET, partial, BODY, now=TIMESTAMP)

    def test_a_timestamp_that_is_not_an_integer(self):
        with self.assertRaisesRegex(WebhookVerificationError, "integer"):
            verify_webhook(SECRET, {**headers(), "webhook-timestamp": "soon"}, BODY, now=TIMESTAMP)

    def test_garbage_and_other_versions_are_skipped(self):
        for signature in ("v1,not*base64", "v2," + SIGNATURE[3:], SIGNATURE[3:], "v1,"):
            with self.assertRaises(WebhookVerificationError, msg=signature):
                verify_webhook(SECRET, headers(signature=signature), BODY, now=TIMESTAMP)


class TestSeveralSignatures(unittest.TestCase):
    def test_any_matching_signature_among_several(self):
        other = "v1," + base64.b64encode(b"x" * 32).decode()
        for signature in (f"{other} {SIGNATURE}", f"{SIGNATURE} {other}", f"v2,abc {SIGNATURE}"):
            self.assertEqual(verify_webhook(SECRET, headers(signature=signature), BODY, now=TIMESTAMP), {"test": 2432232314})

    def test_several_secrets_while_rotating(self):
        old = "whsec_" + base64.b64encode(b"the old secret, rotated out").decode()
        verifier = Webhook(old, SECRET)
        self.assertEqual(verifier.verify(headers(), BODY, now=TIMESTAMP), {"test": 2432232314})
        with self.assertRaises(WebhookVerificationError):
            Webhook(old).verify(headers(), BODY, now=TIMESTAMP)

    def test_a_bad_secret_is_a_value_error(self):
        with self.assertRaises(ValueError):
            Webhook("whsec_***")


if __name__ == "__main__":
    unittest.main()
