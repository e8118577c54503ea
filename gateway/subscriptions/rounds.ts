// A tick every 100 ms: 10,000 sockets visited every 30 s are about 33 per tick, never a burst
// that holds up the event loop for everyone else.
const TICK_MS = 100;
const MAX_SLOTS = 600;

/**
 * Visits every member once per interval, in rounds. Members are spread at random over slots and
 * one timer visits a slot per tick, so a fleet of sockets opened together (a deploy, a network
 * blip) is not visited together ever after. The token re-checks use it (the checks of one tick
 * run at the same moment, so TokenVerifier reads their token states in one statement), and so
 * do the keep-alive pings: one timer for every socket, where graphql-ws keeps two per socket.
 */
export class Rounds<Member> {
  private readonly slots: Set<Member>[];
  private readonly slotOf = new Map<Member, Set<Member>>();
  private readonly timer: NodeJS.Timeout;
  private next = 0;

  constructor(
    intervalMs: number,
    private readonly visit: (member: Member) => void,
  ) {
    const count = Math.min(MAX_SLOTS, Math.max(1, Math.round(intervalMs / TICK_MS)));
    this.slots = Array.from({ length: count }, () => new Set<Member>());
    this.timer = setInterval(() => this.tick(), intervalMs / count);
    this.timer.unref();
  }

  add(member: Member): void {
    const slot = this.slots[Math.floor(Math.random() * this.slots.length)]!;
    slot.add(member);
    this.slotOf.set(member, slot);
  }

  delete(member: Member): void {
    this.slotOf.get(member)?.delete(member);
    this.slotOf.delete(member);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    const slot = this.slots[this.next]!;
    this.next = (this.next + 1) % this.slots.length;
    for (const member of [...slot]) this.visit(member);
  }
}
