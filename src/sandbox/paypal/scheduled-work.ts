/**
 * Runs scheduled work when it falls due: PENDING captures settle, payout
 * batches complete. Work rows live in PostgreSQL, so a restart (or another
 * node) picks them up; a timer set when work is written keeps the delay
 * precise, and a periodic sweep catches everything else (restarts, an
 * injected clock moved forward, webhook deliveries left behind).
 */
import type pg from 'pg';
import { inTransaction, takeDueWork, type Client, type WorkKind } from './store.ts';

export type WorkHandlers = Record<WorkKind, (client: Client, resourceId: string) => Promise<void>>;

export interface ScheduledWorkOptions {
  pool: pg.Pool;
  now: () => Date;
  handlers: WorkHandlers;
  /** Called after each piece of work commits (it may have written webhook events). */
  afterWork: () => void;
  sweepIntervalMs: number;
  log: (message: string, error?: unknown) => void;
}

/** A bound on one run, so a flood of due work cannot starve the event loop. */
const workItemsPerRun = 100;

export class ScheduledWorkRunner {
  private readonly options: ScheduledWorkOptions;
  private readonly timers = new Set<NodeJS.Timeout>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private runAgain = false;
  private closed = false;

  constructor(options: ScheduledWorkOptions) {
    this.options = options;
  }

  start(): void {
    if (this.closed || this.sweepTimer) return;
    this.sweepTimer = setInterval(() => {
      this.runDue();
      this.options.afterWork();
    }, this.options.sweepIntervalMs);
    this.sweepTimer.unref();
    this.runDue();
  }

  runDueAfter(delayMs: number): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.runDue();
    }, Math.max(0, delayMs));
    timer.unref();
    this.timers.add(timer);
  }

  /** Starts a run now, or once more after the current one. Never throws. */
  runDue(): void {
    if (this.closed) return;
    if (this.running) {
      this.runAgain = true;
      return;
    }
    this.running = this.run()
      .catch((error) => this.options.log('paypal sandbox: scheduled work failed', error))
      .finally(() => {
        this.running = undefined;
        if (this.runAgain) {
          this.runAgain = false;
          this.runDue();
        }
      });
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    await this.running;
  }

  private async run(): Promise<void> {
    for (let done = 0; done < workItemsPerRun && !this.closed; done += 1) {
      const worked = await inTransaction(this.options.pool, async (client) => {
        const work = await takeDueWork(client, this.options.now());
        if (!work) return false;
        await this.options.handlers[work.kind](client, work.resourceId);
        return true;
      });
      if (!worked) return;
      this.options.afterWork();
    }
  }
}
