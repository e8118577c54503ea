// Sign in as the sandbox client: choose the person and what their consent grants.
import { useState } from "preact/hooks";
import { DEFAULT_SCOPES, GRANTABLE_SCOPES, signIn, type Session } from "../session.ts";
import { ErrorList } from "./person.tsx";

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [person, setPerson] = useState("USR_42891");
  const [scopes, setScopes] = useState<Set<string>>(new Set(DEFAULT_SCOPES));
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState(false);
  const toggle = (scope: string) => {
    const next = new Set(scopes);
    if (!next.delete(scope)) next.add(scope);
    setScopes(next);
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      onSignedIn(await signIn(person, [...scopes]));
    } catch (error) {
      setFailure((error as Error).message);
      setBusy(false);
    }
  };
  return (
    <form class="sign-in" onSubmit={(event) => void submit(event)}>
      <h2>Sign in as the sandbox client</h2>
      <p class="note">
        The dashboard's back end asks the person's consent as <code>of_lab_demo</code> (a sandbox client: authorised at once) and hands
        this page the tokens, which it keeps in memory only.
      </p>
      <ErrorList errors={failure ? [failure] : []} />
      <label>
        Person <input name="person" value={person} onInput={(event) => setPerson(event.currentTarget.value)} required />
      </label>
      <fieldset>
        <legend>Scopes the consent grants</legend>
        {GRANTABLE_SCOPES.map((scope) => (
          <label key={scope} class="check">
            <input type="checkbox" name="scope" value={scope} checked={scopes.has(scope)} onChange={() => toggle(scope)} /> <code>{scope}</code>
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={busy || scopes.size === 0}>Sign in</button>
    </form>
  );
}
