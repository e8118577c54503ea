// The dashboard: sign in, then the person, their alerts, the CRM and the consent.
import { useEffect, useMemo, useState } from "preact/hooks";
import { Provider } from "@urql/preact";
import { graphqlClient, probeAccess } from "./graphql.ts";
import type { ConsentView, Session } from "./session.ts";
import { AlertsView } from "./views/alerts.tsx";
import { ConsentScreen } from "./views/consent.tsx";
import { CrmView } from "./views/crm.tsx";
import { PersonView } from "./views/person.tsx";
import { SignIn } from "./views/sign-in.tsx";

const VIEWS = [
  { id: "person", label: "Person" },
  { id: "alerts", label: "Alerts" },
  { id: "crm", label: "CRM" },
  { id: "consent", label: "Consent" },
] as const;
type ViewId = (typeof VIEWS)[number]["id"];

export function App() {
  const [session, setSession] = useState<Session>();
  const [view, setView] = useState<ViewId>("person");
  const [revoked, setRevoked] = useState<ConsentView>();
  const personClient = useMemo(() => session && graphqlClient(session.personToken), [session]);
  const partnerClient = useMemo(() => session && graphqlClient(session.partnerToken), [session]);

  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header>
        <h1>kamina-graph dashboard</h1>
        {session && (
          <nav aria-label="Views">
            {VIEWS.map((item) => (
              <button key={item.id} type="button" aria-current={view === item.id ? "page" : undefined} onClick={() => setView(item.id)} data-view={item.id}>
                {item.label}
              </button>
            ))}
          </nav>
        )}
      </header>
      <main id="main" tabIndex={-1}>
        {!session || !personClient || !partnerClient ? (
          <SignIn onSignedIn={setSession} />
        ) : (
          <>
            <h2>{VIEWS.find((item) => item.id === view)?.label}</h2>
            {revoked && view !== "consent" ? (
              <AccessEnded consent={revoked} token={session.personToken} />
            ) : view === "person" ? (
              <Provider value={personClient}><PersonView /></Provider>
            ) : view === "alerts" ? (
              <Provider value={personClient}><AlertsView /></Provider>
            ) : view === "crm" ? (
              <Provider value={partnerClient}><CrmView session={session} /></Provider>
            ) : (
              <>
                <ConsentScreen session={session} revoked={revoked} onRevoked={setRevoked} />
                {revoked && <AccessEnded consent={revoked} token={session.personToken} />}
              </>
            )}
          </>
        )}
      </main>
    </>
  );
}

/** After a revoke: the gateway's own answer to the page's token, which no longer opens anything. */
function AccessEnded({ consent, token }: { consent: ConsentView; token: string }) {
  const [answer, setAnswer] = useState<string>();
  useEffect(() => {
    void probeAccess(token).then(setAnswer);
  }, [token]);
  return (
    <div class="ended" role="alert">
      <h3>Access ended</h3>
      <p>
        The consent was revoked {consent.revoked_at ? `at ${new Date(consent.revoked_at).toLocaleString()}` : ""}: every token it issued stops working on the next request.
      </p>
      <p data-access-check>{answer ? `The gateway now answers: ${answer}` : "Asking the gateway…"}</p>
      <p>Reload the page to sign in again.</p>
    </div>
  );
}
