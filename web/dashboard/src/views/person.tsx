// One person, as their consent lets the partner see them.
import { useMemo, useState } from "preact/hooks";
import { useQuery } from "@urql/preact";
import { FactorBars, type FactorRow } from "../components/factor-bars.tsx";
import { LineChart } from "../components/line-chart.tsx";
import { money, Section } from "../components/section.tsx";
import { notConsentedPaths, otherErrors } from "../graphql.ts";

const PERSON = `query DashboardPerson($from: Date!, $to: Date!) {
  me {
    id
    country
    wellness { score band trend30d computedAt nextReviewAt factors { name weight value subScore } actionPlan { code title expectedScoreDelta } }
    wellnessHistory(months: 12, interval: DAY) { date score }
    debts { id issuer type balance currency apr dueDate status }
    expenses(from: $from, to: $to, first: 500) { totalCount edges { node { amount currency category } } }
    incomeStreams { id source kind monthlyAmount currency }
    savingsGoals { id name targetAmount currentAmount currency progress status }
  }
}`;

interface PersonData {
  me: {
    id: string;
    country: string;
    wellness: { score: number; band: string; trend30d: number; computedAt: string; nextReviewAt: string; factors: FactorRow[]; actionPlan: { code: string; title: string; expectedScoreDelta: number }[] } | null;
    wellnessHistory: { date: string; score: number }[] | null;
    debts: { id: string; issuer: string; type: string; balance: string; currency: string; apr: number; dueDate: string; status: string }[] | null;
    expenses: { totalCount: number; edges: { node: { amount: string; currency: string; category: string } }[] } | null;
    incomeStreams: { id: string; source: string; kind: string; monthlyAmount: string; currency: string }[] | null;
    savingsGoals: { id: string; name: string; targetAmount: string; currentAmount: string; currency: string; progress: number; status: string }[] | null;
  } | null;
}

function previousMonth(): string {
  const now = new Date();
  const month = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return month.toISOString().slice(0, 7);
}

function monthRange(month: string): { from: string; to: string } {
  const [year, index] = month.split("-").map(Number) as [number, number];
  const last = new Date(Date.UTC(year, index, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, "0")}` };
}

export function PersonView() {
  const [month, setMonth] = useState(previousMonth());
  const variables = useMemo(() => monthRange(month), [month]);
  const [{ data, error, fetching }] = useQuery<PersonData>({ query: PERSON, variables });
  const denied = notConsentedPaths(error);
  const me = data?.me;
  const history = useMemo(() => (me?.wellnessHistory ?? []).map((point) => ({ date: point.date, value: point.score })), [me?.wellnessHistory]);
  const byCategory = useMemo(() => {
    const totals = new Map<string, number>();
    for (const { node } of me?.expenses?.edges ?? []) totals.set(node.category, (totals.get(node.category) ?? 0) + Number(node.amount));
    return [...totals].sort((a, b) => b[1] - a[1]);
  }, [me?.expenses]);
  const currency = me?.expenses?.edges[0]?.node.currency ?? me?.debts?.[0]?.currency ?? "USD";
  const largest = byCategory[0]?.[1] ?? 1;

  if (fetching && !data) return <p role="status">Loading…</p>;
  if (!me) return <ErrorList errors={otherErrors(error)} />;
  const wellness = me.wellness;
  return (
    <div class="person">
      <ErrorList errors={otherErrors(error)} />
      <p class="who">
        Person <code>{me.id}</code> · {me.country}
      </p>
      <div class="grid">
        <Section title="Wellness" notConsented={denied.has("me.wellness")}>
          {wellness && (
            <div>
              <p class="score">
                <span data-score>{wellness.score}</span> <span class={`band band-${wellness.band}`}>{wellness.band}</span>{" "}
                <span class="trend">
                  {wellness.trend30d >= 0 ? "+" : ""}
                  {wellness.trend30d} in 30 days
                </span>
              </p>
              <h4>Weighted factors</h4>
              <FactorBars factors={wellness.factors} />
              <h4>Action plan</h4>
              <ol>
                {wellness.actionPlan.map((action) => (
                  <li key={action.code}>
                    {action.title} <small>(+{action.expectedScoreDelta} points)</small>
                  </li>
                ))}
              </ol>
              <p class="note">Computed {new Date(wellness.computedAt).toLocaleDateString()}, next review {wellness.nextReviewAt}</p>
            </div>
          )}
        </Section>
        <Section title="Daily wellness history, 12 months" notConsented={denied.has("me.wellnessHistory")}>
          <LineChart points={history} label="Daily wellness score" />
        </Section>
        <Section title="Debts" notConsented={denied.has("me.debts")}>
          <table>
            <thead>
              <tr><th scope="col">Issuer</th><th scope="col">Type</th><th scope="col">Balance</th><th scope="col">APR</th><th scope="col">Due</th><th scope="col">Status</th></tr>
            </thead>
            <tbody>
              {(me.debts ?? []).map((debt) => (
                <tr key={debt.id}>
                  <td>{debt.issuer}</td><td>{debt.type}</td><td class="num">{money(debt.balance, debt.currency)}</td><td class="num">{Math.round(debt.apr * 1000) / 10} %</td><td>{debt.dueDate}</td><td>{debt.status}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Section>
        <Section title="Expenses by category" notConsented={denied.has("me.expenses")}>
          <label>
            Month <input type="month" value={month} onInput={(event) => event.currentTarget.value && setMonth(event.currentTarget.value)} />
          </label>
          {byCategory.length === 0 ? (
            <p>No expenses that month.</p>
          ) : (
            <ul class="bars">
              {byCategory.map(([category, total]) => (
                <li key={category}>
                  <span class="bar-label">{category} <small>{money(total, currency)}</small></span>
                  <span class="bar"><span class="bar-fill expense" style={{ width: `${Math.round((total / largest) * 100)}%` }} /></span>
                </li>
              ))}
            </ul>
          )}
          {me.expenses && me.expenses.totalCount > me.expenses.edges.length && <p class="note">The first {me.expenses.edges.length} of {me.expenses.totalCount} expenses.</p>}
        </Section>
        <Section title="Income streams" notConsented={denied.has("me.incomeStreams")}>
          <ul>
            {(me.incomeStreams ?? []).map((stream) => (
              <li key={stream.id}>
                {stream.source} ({stream.kind.toLowerCase()}): {money(stream.monthlyAmount, stream.currency)} a month
              </li>
            ))}
          </ul>
        </Section>
        <Section title="Savings goals" notConsented={denied.has("me.savingsGoals")}>
          <ul class="goals">
            {(me.savingsGoals ?? []).map((goal) => (
              <li key={goal.id}>
                <label>
                  {goal.name}: {money(goal.currentAmount, goal.currency)} of {money(goal.targetAmount, goal.currency)}
                  <progress max={1} value={Math.min(1, goal.progress)}>{Math.round(goal.progress * 100)} %</progress>
                </label>
              </li>
            ))}
          </ul>
        </Section>
      </div>
    </div>
  );
}

export function ErrorList({ errors }: { errors: string[] }) {
  if (errors.length === 0) return null;
  return (
    <div class="error" role="alert">
      {errors.map((message) => (
        <p key={message}>{message}</p>
      ))}
    </div>
  );
}
