// The consent behind the page's token: scopes granted, receipts of recent reads, revoke.
import { useEffect, useState } from "preact/hooks";
import { readConsent, revokeConsent, type ConsentView, type Receipt, type Session } from "../session.ts";
import { ErrorList } from "./person.tsx";

export function ConsentScreen({ session, revoked, onRevoked }: { session: Session; revoked: ConsentView | undefined; onRevoked: (consent: ConsentView) => void }) {
  const [state, setState] = useState<{ consent: ConsentView; receipts: Receipt[] }>();
  const [failure, setFailure] = useState<string>();
  useEffect(() => {
    if (revoked) return;
    readConsent(session).then(setState, (error: Error) => setFailure(error.message));
  }, [session, revoked]);

  const revoke = async () => {
    try {
      onRevoked(await revokeConsent(session));
    } catch (error) {
      setFailure((error as Error).message);
    }
  };

  const consent = revoked ?? state?.consent;
  return (
    <div>
      <ErrorList errors={failure ? [failure] : []} />
      {consent && (
        <dl class="facts">
          <dt>Consent</dt><dd><code>{consent.consent_id}</code></dd>
          <dt>Status</dt><dd data-consent-status>{consent.status}</dd>
          <dt>Authorised</dt><dd>{consent.authorised_at ? new Date(consent.authorised_at).toLocaleString() : "not yet"}</dd>
          <dt>Expires</dt><dd>{consent.expires_at ? new Date(consent.expires_at).toLocaleDateString() : ""}</dd>
          {consent.revoked_at && (<><dt>Revoked</dt><dd>{new Date(consent.revoked_at).toLocaleString()} ({consent.revocation_reason})</dd></>)}
        </dl>
      )}
      <h3>Scopes granted</h3>
      <ul class="scopes">{(consent?.scopes ?? []).map((scope) => <li key={scope}><code>{scope}</code></li>)}</ul>
      {!revoked && (
        <>
          <h3>Receipts of recent reads</h3>
          <table>
            <thead><tr><th scope="col">When</th><th scope="col">Operation</th><th scope="col">Fields read</th></tr></thead>
            <tbody>
              {(state?.receipts ?? []).map((receipt) => (
                <tr key={receipt.receipt_id}>
                  <td>{new Date(receipt.at).toLocaleString()}</td>
                  <td>{String(receipt.detail?.operationName ?? receipt.detail?.operation ?? "")}</td>
                  <td>{receipt.fields.join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <button type="button" class="danger" onClick={() => void revoke()}>Revoke this consent</button>
        </>
      )}
    </div>
  );
}
