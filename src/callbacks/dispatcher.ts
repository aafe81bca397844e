import { tableWorkNames } from '../jobs/queue.ts';
import { RunningWork } from '../jobs/running-work.ts';
import type { IntakePressure } from '../jobs/intake-pressure.ts';
import { SlotLoop } from '../jobs/slot-loop.ts';
import type { CallbackDelivery, HandedOffCallback, PlatformContext } from '../processing/context.ts';
import type { Queryable } from '../store/db.ts';
import { attemptDelivery } from './deliver.ts';

/**
 * Callback delivery claims due callbacks straight from the `callbacks` table
 * (the outbox itself) instead of a queue job per callback: the row already
 * holds everything a job would (status, attempts, when the next attempt is
 * due), so a job only added a row to write, fetch and complete per callback.
 *
 * A claim is a lease: it moves `next_attempt_at` past the longest an attempt
 * can take, in the statement that claims (`FOR UPDATE SKIP LOCKED`, so nodes
 * never claim the same row). Recording the attempt sets the real next time
 * (or none once delivered); a node that dies mid-attempt leaves the callback
 * due again when the lease runs out, and another node delivers it. At least
 * once, as the merchant's handler expects.
 *
 * Each claimed callback holds one of `slots` (CALLBACK_CONCURRENCY): one slow
 * receiver holds its own slots, never everybody else's deliveries.
 */
export interface CallbackDispatcherSettings {
  slots: number;
  /** How often to look for callbacks that fell due without a wake-up here (retries, other nodes' callbacks). */
  pollingIntervalMs: number;
  /** How long a claim keeps other nodes off a callback: longer than one attempt can take. */
  leaseSeconds: number;
  /** Merchant requests first: while Gate requests crowd this node, deliveries fill only a floor of the slots. */
  pressure?: IntakePressure;
}

/** A claimed callback carries what a handed-off one does. */
export type ClaimedCallback = HandedOffCallback;

/** A callback handed over by the code that wrote it: attempted only while its lease can still cover an attempt. */
type HandOff = HandedOffCallback & { startByMs: number };

/** Left of a hand-off's lease after the attempt's timeout, for recording the attempt. */
const handOffStartMarginMs = 1_000;

/** Claims up to `count` due callbacks for `leaseSeconds`, oldest due first; rows another node holds are skipped. */
export async function claimDueCallbacks(db: Queryable, count: number, leaseSeconds: number): Promise<ClaimedCallback[]> {
  const { rows } = await db.query<ClaimedCallback>(
    `WITH due AS (
       SELECT id FROM callbacks
        WHERE status = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, id
        LIMIT $1
        FOR UPDATE SKIP LOCKED)
     UPDATE callbacks c SET next_attempt_at = now() + make_interval(secs => $2)
       FROM due, projects p
      WHERE c.id = due.id AND p.id = c.project_id
     RETURNING c.id, c.url, c.body, c.request_id, p.mode AS project_mode`,
    [count, leaseSeconds],
  );
  return rows;
}

export class CallbackDispatcher implements CallbackDelivery {
  private readonly loop: SlotLoop<ClaimedCallback | HandOff>;
  private readonly running = new RunningWork();
  private started = false;

  constructor(
    private readonly context: PlatformContext,
    private readonly settings: CallbackDispatcherSettings,
  ) {
    this.loop = new SlotLoop(settings.slots, settings.pollingIntervalMs, settings.pressure);
  }

  start(): void {
    this.started = true;
    void this.loop.run(
      (count) => claimDueCallbacks(this.context.pool, count, this.settings.leaseSeconds),
      (callback) => this.deliver(callback),
    );
  }

  /** A callback due now was committed on this node without a hand-off: claim it at once rather than at the next poll. */
  wake(): void {
    if (this.started) this.loop.wake();
  }

  handOffLeaseSeconds(): number | undefined {
    return this.started ? this.settings.leaseSeconds : undefined;
  }

  /**
   * Delivers a callback this node wrote claimed (`handOffLeaseSeconds`) in
   * the next free slot. A stopping node leaves it to its lease.
   */
  handOff(callback: HandedOffCallback): void {
    if (!this.started) return;
    // Its lease started when it was written; an attempt must end before the lease does, or another node may start one too.
    const startWindowMs = this.settings.leaseSeconds * 1000 - this.context.config.callbackTimeoutMs - handOffStartMarginMs;
    this.loop.offer({ ...callback, startByMs: Date.now() + startWindowMs });
  }

  /** Stops claiming, then lets the attempts under way finish (each is bounded by the callback timeout). */
  async stop(waitMs: number): Promise<void> {
    this.started = false;
    this.loop.stop();
    await this.running.settle(waitMs);
  }

  private async deliver(callback: ClaimedCallback | HandOff): Promise<void> {
    // Waited too long for a slot: the lease may run out mid-attempt, so the table's claim delivers it instead.
    if ('startByMs' in callback && Date.now() > callback.startByMs) return;
    const item = { id: String(callback.id), data: { requestId: callback.request_id ?? undefined } };
    const attempt = this.context.queue
      .instrument(tableWorkNames.callbackDeliver, item, () => attemptDelivery(this.context, callback))
      // A failed attempt record (the database went away) leaves the claim to run out: the callback is tried again then.
      .catch((error: unknown) => this.context.log.error({ err: error, callback_id: String(callback.id) }, 'callback attempt not recorded'));
    await this.running.track(attempt);
  }
}
