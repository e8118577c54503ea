import { environmentOf, PairwiseIds, pairwiseSecret } from "../../platform/auth/pairwise-ids.ts";
import { partnerIdsOver, type PartnerIds } from "../../platform/partner-ids/partner-ids.ts";
import { alertWebhookBody, messageId } from "../../domain/alerts/alert-event.ts";
import { activeMetrics } from "../../platform/observability/metrics.ts";
import type { Logger } from "../../platform/logger.ts";
import { StatementBatcher } from "../../platform/database/statement-batcher.ts";
import { LruMap } from "../../platform/lru-map.ts";
import { DrainLoop } from "../events/drain-loop.ts";
import type { RealtimeConfig } from "../../platform/config/realtime-config.ts";
import type { PrismaClient } from "../../platform/database/database.ts";
import { checkDestination, systemResolver, type Resolver } from "../../platform/net/public-address.ts";
import { EndpointRateLimit } from "./endpoint-rate-limit.ts";
import { DeliveryRecords } from "./delivery-records.ts";
import { liveSecrets, SecretBox, type EndpointSecrets } from "./webhook-secrets.ts";
import { signatureHeader } from "./webhook-signature.ts";
import { postPinned, WebhookAgents, WebhookTimeout } from "./webhook-request.ts";
import type { KeyEncryptionKeys } from "../../platform/encryption/vault-factory.ts";

type WebhookSettings = RealtimeConfig["webhooks"];

interface ClaimedDelivery {
  id: string;
  endpointId: string;
  eventId: bigint;
  attempts: number;
}

const CLAIM_BATCH = 200;
const MIN_CLAIM = CLAIM_BATCH / 4;
/** Deliveries one dispatcher has on the wire at once; a slow endpoint holds only its own. */
export const MAX_IN_FLIGHT = 400;
/** Opened endpoint secrets, by their sealed text (a rotation seals anew, so it is a new key). */
const SECRETS_KEPT = 1_000;
const MAX_ERROR_LENGTH = 500;

/** Exponential back-off with "equal jitter": half the step fixed, half random, capped. */
export function backoffMs(attempt: number, settings: Pick<WebhookSettings, "backoffBaseMs" | "backoffMaxMs">, random = Math.random): number {
  const step = Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/**
 * Delivers webhook rows at least once. Rows are claimed with a lease (`leased_until`) under
 * `FOR UPDATE SKIP LOCKED`, so any number of dispatchers share the work and a dispatcher killed
 * mid-delivery leaves rows that are claimed again once the lease ends. A 2xx is DELIVERED; any
 * other answer, a timeout or a network error is FAILED with the next attempt backed off, and the
 * last allowed attempt makes it DEAD (replayable through POST /v1/webhooks/{id}/replay).
 * Each delivery runs on its own: one endpoint that answers slowly (up to WEBHOOK_TIMEOUT_MS)
 * never holds back another's, while at most MAX_IN_FLIGHT are open at once.
 * Before every attempt the endpoint's host is resolved again and the address policy applied to
 * each address (DNS may have changed since registration); the request then connects to exactly
 * those addresses. A refused address is a failed attempt like an unreachable endpoint (retried,
 * then DEAD), and nothing is sent to it.
 */
export class WebhookDispatcher {
  private readonly box: SecretBox;
  private readonly limiter: EndpointRateLimit;
  private readonly loop = new DrainLoop(
    () => this.runOnce(),
    (error) => this.logger.error({ err: error }, "webhook dispatch failed; retrying on the next tick"),
  );
  private readonly inFlight = new Set<Promise<void>>();
  private readonly agents = new WebhookAgents();
  private readonly records: DeliveryRecords;
  private readonly secrets = new LruMap<string, Promise<EndpointSecrets>>(SECRETS_KEPT);
  /** The partner refs of the deliveries starting at the same moment: one read per client. */
  private readonly refs = new StatementBatcher<{ clientId: string; userId: string }, { customerId: string; bureauId: string | null } | undefined>((asked) => this.readRefs(asked), 500);

  private readonly people: PairwiseIds;
  private readonly partnerIds: PartnerIds;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly settings: WebhookSettings,
    /** The key-encryption key (and, during a rotation, the previous ones) the endpoints' secrets are sealed under. */
    keys: KeyEncryptionKeys,
    private readonly logger: Logger,
    /** How endpoint host names are resolved at each send (tests stand in a DNS of their own). */
    private readonly resolve: Resolver = systemResolver,
    /** Each client's pairwise person ids (PAIRWISE_ID_KEY); derived from the key-encryption key when not given, as configuration does. */
    pairwiseIds?: PairwiseIds,
    /** Each client's own ids for people (issue 21, item 1); sealed under data keys the key-encryption key unwraps when not given. */
    partnerIds?: PartnerIds,
  ) {
    this.box = new SecretBox(keys);
    this.people = pairwiseIds ?? new PairwiseIds(pairwiseSecret(undefined, keys.keyEncryptionKey));
    this.partnerIds = partnerIds ?? partnerIdsOver(prisma, keys);
    this.limiter = new EndpointRateLimit(prisma, settings.ratePerSecond);
    this.records = new DeliveryRecords(prisma);
  }

  start(): void {
    this.loop.pollEvery(this.settings.pollMs);
    this.wake();
  }

  wake(): void {
    this.loop.wake();
  }

  /** Claims due deliveries and starts sending them; returns how many it claimed. */
  async runOnce(): Promise<number> {
    const room = Math.min(CLAIM_BATCH, MAX_IN_FLIGHT - this.inFlight.size);
    // While deliveries are on the wire, each one ending wakes the loop: claim when a good share of
    // a batch fits, not one row per statement.
    if (room <= 0 || (this.inFlight.size > 0 && room < MIN_CLAIM)) return 0;
    const leaseMs = this.settings.timeoutMs * 2 + 5_000;
    // Planned for each claim's own LIMIT and backlog (Prisma sends it unnamed), not once per
    // connection as a prepared statement: the generic plan of a LIMIT parameter joined the batch
    // to a scan of the whole table, and in bench:realtime's burst a claim took 200-400 ms (four a
    // second, the dispatcher's bound) and sometimes thousands of rows past its LIMIT. The batch is
    // a materialized CTE, read once, so the UPDATE leases exactly the rows it locked.
    const claimed = await this.prisma.$queryRaw<ClaimedDelivery[]>`
      WITH due AS MATERIALIZED (
        SELECT id FROM webhook_delivery
        WHERE status IN ('PENDING', 'FAILED') AND next_attempt_at <= now() AND (leased_until IS NULL OR leased_until < now())
        ORDER BY next_attempt_at LIMIT ${room}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE webhook_delivery d SET leased_until = now() + ${leaseMs} * interval '1 millisecond'
      FROM due WHERE d.id = due.id
      RETURNING d.id, d.endpoint_id AS "endpointId", d.event_id AS "eventId", d.attempts`;
    for (const delivery of claimed) this.send(delivery);
    return claimed.length;
  }

  /** One delivery on its own; when it ends there is room for more, so the loop looks again. */
  private send(delivery: ClaimedDelivery): void {
    const sending: Promise<void> = this.deliver(delivery)
      // The row keeps its lease and is claimed again when the lease ends: nothing is lost.
      .catch((error: unknown) => this.logger.error({ err: error, deliveryId: delivery.id }, "webhook delivery failed unexpectedly"))
      .finally(() => {
        this.inFlight.delete(sending);
        this.wake();
      });
    this.inFlight.add(sending);
  }

  private async deliver(delivery: ClaimedDelivery): Promise<void> {
    const context = await this.records.context(delivery.id);
    if (!context) return;
    if (!context.alertId || !context.alertType || !context.severity || !context.userId || !context.riskBand || !context.alertCreatedAt) return this.finish(delivery, "DEAD", null, "The alert no longer exists");
    // Consent is checked again at send time: a revocation since the event stops the delivery.
    if (!context.consented) return this.finish(delivery, "DEAD", null, "The person's consent no longer covers alerts.read for this client");
    // A paused endpoint, or a suspended client (suspension stops what its tokens could read, and this too): held, not attempted.
    if (context.endpointStatus !== "ACTIVE" || context.clientStatus !== "ACTIVE") return this.postpone(delivery, this.settings.pollMs * 10);
    const wait = await this.limiter.take(delivery.endpointId);
    if (wait > 0) return this.postpone(delivery, wait);

    const id = messageId(delivery.eventId);
    // The endpoint's client's own ids for the person, beside its pairwise id; never another client's.
    const ref = await this.refs.add({ clientId: context.clientId, userId: context.userId });
    const body = JSON.stringify(
      alertWebhookBody(delivery.eventId, {
        id: context.alertId,
        type: context.alertType,
        severity: context.severity,
        // The person as this endpoint's client knows them (issue 16, item 6).
        userId: this.people.external(context.clientId, environmentOf(context), context.userId),
        partnerRef: ref ?? null,
        riskBand: context.riskBand,
        contributingFactors: context.contributingFactors ?? [],
        suggestedAction: context.suggestedAction ?? "",
        createdAt: context.alertCreatedAt,
      }),
    );
    const timestamp = Math.floor(Date.now() / 1000);
    const secrets = liveSecrets(await this.openSecrets(context.secretEncrypted));
    let status: number | null = null;
    let failure: string;
    const destination = await checkDestination(context.url, { sandbox: context.sandbox, resolve: this.resolve });
    if (!destination.ok) {
      failure = destination.problem === "unresolvable" ? "The endpoint could not be reached: its host does not resolve" : `The endpoint's address is refused: its URL ${destination.reason}; nothing was sent`;
      if (destination.problem !== "unresolvable") this.logger.warn({ deliveryId: delivery.id, endpointId: delivery.endpointId, problem: destination.problem }, "webhook endpoint refused by the address policy at send time");
    } else {
      try {
        status = await postPinned(
          destination,
          {
            "content-type": "application/json",
            "user-agent": "kamina-graph-webhooks/1",
            "webhook-id": id,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signatureHeader(secrets, id, timestamp, body),
          },
          body,
          { timeoutMs: this.settings.timeoutMs, agent: this.agents.agent(context.sandbox, destination.url.protocol) },
        );
        // A redirect could point anywhere, private networks included: it is never followed and counts as a failure.
        if (status >= 200 && status < 300) {
          activeMetrics()?.webhookAttempts.inc({ outcome: "delivered" });
          return this.finish(delivery, "DELIVERED", status, null);
        }
        failure = `The endpoint answered ${status}`;
      } catch (error) {
        failure = error instanceof WebhookTimeout ? `No answer within ${this.settings.timeoutMs} ms` : "The endpoint could not be reached";
      }
    }
    activeMetrics()?.webhookAttempts.inc({ outcome: status === null ? "unreachable" : "failed" });
    const attempts = delivery.attempts + 1;
    const dead = attempts >= this.settings.maxAttempts;
    const retryInMs = dead ? null : backoffMs(attempts, this.settings);
    // One line per failed attempt, for the operator of a receiver that fails (verification, a
    // crash, a wrong URL): which endpoint, which message, how it went. Never the URL (it may hold
    // a token), the secret or the payload.
    this.logger.warn(
      { endpointId: delivery.endpointId, deliveryId: delivery.id, messageId: id, attempt: attempts, maxAttempts: this.settings.maxAttempts, status, error: failure, retryInMs, dead },
      dead ? "webhook delivery attempt failed; no attempts left, the delivery is dead" : "webhook delivery attempt failed; retrying",
    );
    if (dead) return this.finish(delivery, "DEAD", status, failure);
    await this.prisma.$executeRaw`
      UPDATE webhook_delivery SET status = 'FAILED', attempts = ${attempts}, last_status_code = ${status}, last_error = ${failure.slice(0, MAX_ERROR_LENGTH)},
        next_attempt_at = now() + ${retryInMs} * interval '1 millisecond', leased_until = NULL
      WHERE id = ${delivery.id}`;
  }

  private async finish(delivery: ClaimedDelivery, status: "DELIVERED" | "DEAD", code: number | null, error: string | null): Promise<void> {
    if (status === "DEAD") activeMetrics()?.webhookDeadLetters.inc();
    const counted = status === "DELIVERED" || code !== null || error?.startsWith("The endpoint") === true || error?.startsWith("No answer") === true;
    await this.records.finish({ id: delivery.id, status, code, error: error?.slice(0, MAX_ERROR_LENGTH) ?? null, counted });
  }

  private openSecrets(sealed: string): Promise<EndpointSecrets> {
    let opened = this.secrets.get(sealed);
    if (!opened) {
      opened = this.box.open(sealed);
      this.secrets.set(sealed, opened);
      opened.catch(() => this.secrets.delete(sealed));
    }
    return opened;
  }

  private async readRefs(asked: readonly { clientId: string; userId: string }[]): Promise<({ customerId: string; bureauId: string | null } | undefined)[]> {
    const byClient = new Map<string, Set<string>>();
    for (const { clientId, userId } of asked) {
      let people = byClient.get(clientId);
      if (!people) byClient.set(clientId, (people = new Set()));
      people.add(userId);
    }
    const found = new Map<string, Awaited<ReturnType<PartnerIds["refsFor"]>>>();
    await Promise.all([...byClient].map(async ([clientId, people]) => found.set(clientId, await this.partnerIds.refsFor(clientId, [...people]))));
    return asked.map(({ clientId, userId }) => {
      const ref = found.get(clientId)?.get(userId);
      return ref ? { customerId: ref.customerId, bureauId: ref.bureauId } : undefined;
    });
  }

  /** Not an attempt (rate limit, paused endpoint): back in the queue after `ms`. */
  private async postpone(delivery: ClaimedDelivery, ms: number): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE webhook_delivery SET next_attempt_at = now() + ${ms} * interval '1 millisecond', leased_until = NULL WHERE id = ${delivery.id}`;
  }

  async stop(): Promise<void> {
    await this.loop.stop();
    await Promise.all(this.inFlight);
    this.agents.destroy();
  }
}
