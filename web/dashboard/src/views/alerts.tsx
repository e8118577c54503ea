// Prevention alerts: the person's recent ones, new ones live over graphql-ws, acknowledge and resolve.
import { useEffect, useState } from "preact/hooks";
import { useMutation, useQuery, useSubscription } from "@urql/preact";
import { otherErrors } from "../graphql.ts";
import { ErrorList } from "./person.tsx";

const FIELDS = "id type severity riskBand status createdAt suggestedAction";
const RECENT = `query DashboardAlerts { me { id alerts(first: 20) { ${FIELDS} } } }`;
const LIVE = `subscription DashboardAlertCreated { alertCreated { ${FIELDS} } }`;
const ACKNOWLEDGE = `mutation DashboardAcknowledge($id: ID!) { acknowledgeAlert(id: $id) { ${FIELDS} } }`;
const RESOLVE = `mutation DashboardResolve($id: ID!) { resolveAlert(id: $id) { ${FIELDS} } }`;
const RAISE = `mutation DashboardRaise($type: String!) { raiseSandboxAlert(type: $type) { ${FIELDS} } }`;
const SANDBOX_TYPES = ["missed_due_date", "expense_spike_food", "dti_above_limit", "income_drop", "savings_depleted"];

interface Alert {
  id: string;
  type: string;
  severity: string;
  riskBand: string;
  status: string;
  createdAt: string;
  suggestedAction: string;
}

export function AlertsView() {
  const [{ data, error }] = useQuery<{ me: { alerts: Alert[] | null } | null }>({ query: RECENT });
  const [live] = useSubscription<{ alertCreated: Alert }>({ query: LIVE });
  const [alerts, setAlerts] = useState<Alert[]>([]);
  const [liveIds, setLiveIds] = useState<Set<string>>(new Set());
  const [type, setType] = useState(SANDBOX_TYPES[0]!);
  const [, acknowledge] = useMutation<{ acknowledgeAlert: Alert }>(ACKNOWLEDGE);
  const [, resolve] = useMutation<{ resolveAlert: Alert }>(RESOLVE);
  const [raised, raise] = useMutation<{ raiseSandboxAlert: Alert }>(RAISE);
  const [actionErrors, setActionErrors] = useState<string[]>([]);

  const upsert = (alert: Alert) => setAlerts((current) => [alert, ...current.filter((other) => other.id !== alert.id)].sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
  useEffect(() => setAlerts(data?.me?.alerts ?? []), [data]);
  useEffect(() => {
    const alert = live.data?.alertCreated;
    if (!alert) return;
    setLiveIds((current) => new Set(current).add(alert.id));
    upsert(alert);
  }, [live.data]);

  const act = async (run: Promise<{ data?: Record<string, Alert> | undefined; error?: Parameters<typeof otherErrors>[0] }>) => {
    const result = await run;
    setActionErrors(otherErrors(result.error));
    const alert = result.data && Object.values(result.data)[0];
    if (alert) upsert(alert);
  };

  return (
    <div>
      <ErrorList errors={[...otherErrors(error), ...otherErrors(live.error), ...actionErrors]} />
      <p class="live" role="status" aria-live="polite">
        {live.error ? "Live alerts stopped." : "Listening for new alerts over graphql-ws."} {liveIds.size > 0 && `${liveIds.size} arrived live.`}
      </p>
      <div class="toolbar">
        <label>
          Alert type{" "}
          <select value={type} onChange={(event) => setType(event.currentTarget.value)}>
            {SANDBOX_TYPES.map((name) => (
              <option key={name} value={name}>{name}</option>
            ))}
          </select>
        </label>
        <button type="button" disabled={raised.fetching} onClick={() => void act(raise({ type }))}>
          Raise a sandbox alert
        </button>
      </div>
      <table>
        <thead>
          <tr><th scope="col">Raised</th><th scope="col">Type</th><th scope="col">Severity</th><th scope="col">Risk</th><th scope="col">Status</th><th scope="col">Suggested action</th><th scope="col">Act</th></tr>
        </thead>
        <tbody>
          {alerts.map((alert) => (
            <tr key={alert.id} data-alert-id={alert.id} data-live={liveIds.has(alert.id) ? "true" : undefined}>
              <td>{new Date(alert.createdAt).toLocaleString()}{liveIds.has(alert.id) && <span class="badge"> live</span>}</td>
              <td>{alert.type}</td>
              <td>{alert.severity}</td>
              <td>{alert.riskBand}</td>
              <td data-status>{alert.status}</td>
              <td>{alert.suggestedAction}</td>
              <td class="actions">
                <button type="button" disabled={alert.status !== "OPEN"} onClick={() => void act(acknowledge({ id: alert.id }))} aria-label={`Acknowledge ${alert.type} alert`}>
                  Acknowledge
                </button>
                <button type="button" disabled={alert.status === "RESOLVED"} onClick={() => void act(resolve({ id: alert.id }))} aria-label={`Resolve ${alert.type} alert`}>
                  Resolve
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
