// Raises alerts the way the prevention engine writes them (subgraphs/alerts/prevention/evaluate.ts):
// the alert row and its `alert.created` outbox row in one transaction (here one statement, so
// one round trip), the outbox trigger then NOTIFYs the relay. Each alert's `created_at` is the
// publisher's clock right before the statement is sent; `performance.now()` at that moment is
// what delivery latency is measured from.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import pg from "pg";

export interface Person {
  id: string;
  country: string;
}

export interface Published {
  alertId: string;
  userId: string;
  /** `performance.now()` right before the statement was sent. */
  sentAt: number;
  /** `performance.now()` when the commit was acknowledged. */
  committedAt: number;
}

const CONTRIBUTING_FACTORS = ["expense_spike_food", "missed_due_date"];
const SUGGESTED_ACTION = "soft_outreach_v2";
const ALERT_TYPE = "expense_spike_food";

const INSERT = `
  WITH raised AS (
    INSERT INTO alert (id, user_id, country, type, risk_band, severity, contributing_factors, suggested_action, rule_id, status, created_at)
    SELECT id, user_id, country::"Country", $4, 'RED', 'HIGH', $5::text[], $6, NULL, 'OPEN', $7::timestamptz
    FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, user_id, country)
    RETURNING id, user_id, country, created_at
  )
  INSERT INTO outbox_event (topic, aggregate_id, country, payload, created_at)
  SELECT 'alert.created', id, country,
         jsonb_build_object('event', 'alert.created', 'alert_id', id, 'user_id', user_id, 'type', $4::text, 'severity', 'high', 'risk_band', 'red',
                            'contributing_factors', to_jsonb($5::text[]), 'suggested_action', $6::text, 'created_at', created_at),
         created_at
  FROM raised`;

export class AlertPublisher {
  private readonly pool: pg.Pool;

  constructor(databaseUrl: string, connections = 4) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  }

  /** One transaction raising one alert for each of `people` (a batch, as the engine writes a batch of users). */
  async publish(people: readonly Person[]): Promise<Published[]> {
    const client = await this.pool.connect();
    try {
      const ids = people.map(() => `alr_bench_${randomBytes(8).toString("hex")}`);
      const sentAt = performance.now();
      const createdAt = new Date(performance.timeOrigin + sentAt);
      await client.query(INSERT, [ids, people.map((person) => person.id), people.map((person) => person.country), ALERT_TYPE, CONTRIBUTING_FACTORS, SUGGESTED_ACTION, createdAt]);
      const committedAt = performance.now();
      return people.map((person, index) => ({ alertId: ids[index]!, userId: person.id, sentAt, committedAt }));
    } finally {
      client.release();
    }
  }

  /**
   * `rate` alerts per second for `seconds`, one transaction each, on a fixed schedule: a slow
   * commit does not delay the ones after it (up to the pool's connections), so the offered load
   * stays what was asked. `personFor(n)` picks the n-th alert's person.
   */
  async runAtRate(rate: number, seconds: number, personFor: (n: number) => Person, onPublished: (published: Published) => void): Promise<RateReport> {
    const total = Math.round(rate * seconds);
    const started = performance.now();
    const behindMs: number[] = [];
    const failures: string[] = [];
    const inFlight = new Set<Promise<void>>();
    for (let n = 0; n < total; n++) {
      const due = started + (n * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      behindMs.push(Math.max(0, performance.now() - due));
      const sending = this.publish([personFor(n)])
        .then(([published]) => onPublished(published!))
        .catch((error: unknown) => void failures.push(error instanceof Error ? error.message : String(error)))
        .finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    }
    await Promise.all(inFlight);
    const elapsed = (performance.now() - started) / 1000;
    return { published: total - failures.length, failures, seconds: elapsed, achievedRate: (total - failures.length) / elapsed, behindMs };
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

export interface RateReport {
  published: number;
  failures: string[];
  seconds: number;
  achievedRate: number;
  /** How late each alert left the scheduler against its schedule, in ms (a busy bench process shows here). */
  behindMs: number[];
}
