// Alerts raised the way the prevention engine raises them (alert row + outbox row, one
// transaction), and a graphql-ws client over a real WebSocket.
import { randomBytes } from "node:crypto";
import { createClient, type Client, type FormattedExecutionResult } from "graphql-ws";
import WebSocket from "ws";
import { CLIENT_SCOPES, USER_SCOPES } from "../../platform/auth/scopes.ts";
import { allTenants, createPrismaClient, type PrismaClient } from "../../platform/database/database.ts";
import { hashSecret } from "../../platform/secret-hash.ts";
import { createTestDatabase, type TestDatabase } from "../../testkit/postgres.ts";
import { CONSENT_TEXT_VERSION, DEMO_CLIENT, TEST_SANDBOX_SECRET } from "../../testkit/tokens.ts";

/** Two people in MX: A has a wellness diagnosis and a debt; B has nothing and consents to no one. */
export const PERSON_A = "USR_RT_A";
export const PERSON_B = "USR_RT_B";

/** The smallest world the realtime tests need, written directly (no dependence on the synthetic seed). */
/** A fresh database holding the realtime world, with a Prisma client on it. */
export async function createRealtimeDatabase(): Promise<{ database: TestDatabase; prisma: PrismaClient }> {
  const database = await createTestDatabase();
  const prisma = createPrismaClient({ kind: "postgres", url: database.url, poolSize: 2 }, { access: allTenants("test") });
  await seedRealtimeWorld(prisma);
  return { database, prisma };
}

export async function seedRealtimeWorld(prisma: PrismaClient): Promise<void> {
  await prisma.partnerClient.create({
    data: {
      id: DEMO_CLIENT,
      name: "OpenFinance Lab demo",
      secretHash: await hashSecret(TEST_SANDBOX_SECRET),
      countries: ["EC", "MX", "PE", "CO", "CL"],
      allowedScopes: [...USER_SCOPES],
      clientScopes: [...CLIENT_SCOPES],
      sandbox: true,
    },
  });
  await prisma.consentTextVersion.create({ data: { version: CONSENT_TEXT_VERSION, sha256: "0".repeat(64), publishedAt: new Date("2026-05-01T00:00:00Z") } });
  for (const id of [PERSON_A, PERSON_B]) await prisma.user.create({ data: { id, country: "MX" } });
  await prisma.wellnessSnapshot.create({
    data: {
      id: "wsn_rt_a",
      userId: PERSON_A,
      country: "MX",
      snapshotDate: new Date(),
      score: 64,
      band: "AMBER",
      trend30d: -3,
      factors: [{ name: "debt_to_income", weight: 1, value: 0.51 }],
      actionPlan: [],
      computedAt: new Date(),
      nextReviewAt: new Date(Date.now() + 30 * 86_400_000),
    },
  });
  await prisma.debt.create({
    data: {
      id: "dbt_rt_a",
      userId: PERSON_A,
      country: "MX",
      issuer: "Banco Pichincha",
      type: "CREDIT_CARD",
      principal: "2000.00",
      balance: "1240.55",
      minimumPayment: "60.00",
      currency: "USD",
      apr: "0.4200",
      dueDate: new Date("2026-12-25"),
      status: "CURRENT",
      openedAt: new Date("2024-01-01"),
    },
  });
}

export interface RaiseOptions {
  severity?: "LOW" | "MEDIUM" | "HIGH" | "CRITICAL";
  riskBand?: "GREEN" | "AMBER" | "RED";
  type?: string;
  contributingFactors?: string[];
}

export async function raiseAlert(prisma: PrismaClient, userId: string, options: RaiseOptions = {}): Promise<string> {
  const user = await prisma.user.findUniqueOrThrow({ where: { id: userId }, select: { country: true } });
  const id = `alr_test_${randomBytes(6).toString("hex")}`;
  await prisma.$transaction([
    prisma.alert.create({
      data: {
        id,
        userId,
        country: user.country,
        type: options.type ?? "expense_spike_food",
        riskBand: options.riskBand ?? "RED",
        severity: options.severity ?? "HIGH",
        contributingFactors: options.contributingFactors ?? ["missed_due_date", "expense_spike_food"],
        suggestedAction: "soft_outreach_v2",
      },
    }),
    prisma.outboxEvent.create({ data: { topic: "alert.created", aggregateId: id, country: user.country, payload: { alertId: id } } }),
  ]);
  return id;
}

export interface Closed {
  code: number;
  reason: string;
}

/** One subscription over its own connection: results as they come, and how the socket closed. */
export class TestSubscription {
  readonly results: FormattedExecutionResult<Record<string, unknown>, unknown>[] = [];
  readonly closed: Promise<Closed>;
  private readonly client: Client;
  private waiters: (() => void)[] = [];
  private closedWith: Closed | undefined;

  constructor(graphqlUrl: string, authorization: string | undefined, query: string, variables: Record<string, unknown> = {}) {
    let onClosed!: (closed: Closed) => void;
    this.closed = new Promise((resolve) => (onClosed = resolve));
    this.client = createClient({
      url: graphqlUrl.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: authorization ? { authorization } : {},
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => undefined,
      on: {
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          this.closedWith = { code, reason: String(reason) };
          onClosed(this.closedWith);
          this.wakeAll();
        },
      },
    });
    this.client.subscribe(
      { query, variables },
      {
        next: (result) => {
          this.results.push(result);
          this.wakeAll();
        },
        error: () => this.wakeAll(),
        complete: () => this.wakeAll(),
      },
    );
  }

  /** Waits until `count` results have arrived (or fails after `timeoutMs`). */
  async take(count: number, timeoutMs = 10_000): Promise<FormattedExecutionResult<Record<string, unknown>, unknown>[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.results.length < count) {
      if (this.closedWith) throw new Error(`closed with ${this.closedWith.code} ${this.closedWith.reason} after ${this.results.length} results`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`only ${this.results.length} of ${count} results within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.results.slice(0, count);
  }

  /** Resolves once the server has the subscription (one event round-trip is the only proof; a short pause stands in). */
  async ready(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 300));
  }

  async dispose(): Promise<void> {
    await this.client.dispose();
  }

  private wakeAll(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
