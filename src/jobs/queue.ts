import PgBoss from 'pg-boss';
import pg from 'pg';
import { afterCommit, PreparingClient, type Queryable } from '../store/db.ts';
import { PlannerStatisticsKeeper, type StatementRunner } from './planner-statistics.ts';
import { RunningWork } from './running-work.ts';
import type { IntakePressure } from './intake-pressure.ts';
import { SlotLoop } from './slot-loop.ts';
import { turnBatchLoader } from '../store/turn-batches.ts';

/**
 * Background work goes through pg-boss queues in PostgreSQL, so it survives a
 * crash and N nodes share it (SKIP LOCKED fetching). Jobs are sent inside the
 * transaction that makes them necessary (transactional outbox): if the
 * transaction rolls back, the job never existed.
 */
export const queueNames = {
  /** Call the provider for a new operation (create order, capture a hold, void, refund, payout). */
  operationExecute: 'operation-execute',
  /** The customer approved at PayPal: capture (sale) or authorize (auth) the order. */
  operationComplete: 'operation-complete',
  /** Re-read the provider's view of a pending or unknown outcome. */
  operationPoll: 'operation-poll',
  /** Send one notification e-mail (one recipient); pg-boss retries it with growing gaps. */
  notificationEmail: 'notification-email',
} as const;
/** Advisory lock key for queue creation ("gh-queue" in ASCII). */
const queueCreationLock = 0x67682d7175657565n.toString();

export type QueueName = (typeof queueNames)[keyof typeof queueNames];

/**
 * Work that runs through the same hooks (request id, timing, failure counts)
 * without a pg-boss job: callbacks are claimed from their own table
 * (src/callbacks/dispatcher.ts).
 */
export const tableWorkNames = {
  /** Deliver one callback attempt. */
  callbackDeliver: 'callback-deliver',
} as const;
export type WorkName = QueueName | (typeof tableWorkNames)[keyof typeof tableWorkNames];

/** What the hooks see of a piece of work: a pg-boss job, or a claimed row. */
export interface WorkItem {
  id: string;
  data: unknown;
}

export interface OperationJob {
  operationId: string;
}
export interface NotificationEmailJob {
  emailId: string;
}

export interface SendOptions {
  /** The open transaction to enqueue in. */
  db?: Queryable;
  startAfterSeconds?: number;
  /** At most one job per key within an hour (e.g. one completion per operation). */
  singletonKey?: string;
  /** Retries after a failure, instead of the queue's 20 (each 2 × 2^n s later, up to about a day apart). */
  retryLimit?: number;
  /** Run it on this node right after the commit (`JobQueue` explains the hand-off); a plain send where this node does not work the queue. */
  here?: boolean;
}

export interface QueueSettings {
  connectionString: string;
  pollingIntervalSeconds: number;
  /** A job still active after this long is presumed lost with its node and retried. */
  expireInSeconds: number;
  maintenanceIntervalSeconds: number;
  /** Merchant requests first: while Gate requests crowd this node, its workers fill only a floor of their slots. */
  pressure?: IntakePressure;
}

/**
 * Hooks for observability: they see every job without the job code knowing.
 * `beforeSend` may add context to a job's data (a request id); `aroundJob`
 * wraps each run (context, timing, failure counts) and must call `run`.
 */
export interface JobHooks {
  beforeSend?(name: WorkName, data: object): object;
  aroundJob?(name: WorkName, job: WorkItem, run: () => Promise<void>): Promise<void>;
}

/**
 * pg-boss 10 dedupes a singleton key on a standard queue only within a time
 * slot (`singletonSeconds`); without one, every send creates a job. One hour:
 * the sends it must merge (a customer's return and PayPal's webhook for the
 * same approval) come seconds apart.
 */
const singletonWindowSeconds = 3600;

/**
 * A job handed to this node by the code that sent it. It was written with
 * `start_after` a lease ahead, so no node fetches it meanwhile; this node runs
 * it at once, and deletes it when done (nothing left to fetch or complete). A
 * failed run fails it as a fetched job would (pg-boss retries it after a
 * delay, elsewhere too); a node that dies first leaves it to the lease, after
 * which any node fetches it. At least once, as every job handler expects.
 */
interface HandedOffJob {
  id: string;
  data: object;
  /** Run only until then: later, the lease might run out mid-run and another node start it too. */
  startByMs: number;
}

/** Jobs written as a CTE of another statement: see `JobQueue.jobsAlongside`. */
export interface JobsAlongside {
  name: QueueName;
  /** pg-boss's `startAfter` for these jobs (seconds from now, as text): the hand-off lease, or null to start at once. */
  startAfter: string | null;
  /** Values for the CTE's parameters, numbered from the `firstParameter` given to `insertReading`. */
  parameters: readonly unknown[];
  /** The CTE's body: pg-boss's insert of the jobs in `jobsJson`, an SQL expression of a JSON array of `{id, name, data, startAfter}`. */
  insertReading(jobsJson: string, firstParameter: number): string;
  /** Once the statement's transaction has committed (at once outside one): wakes or hands off the jobs written. */
  written(db: Queryable, jobs: readonly { id: string; data: object }[]): void;
}

interface PgBossInsert {
  defaults: readonly unknown[];
  readingFrom(jobsJson: string, firstParameter: number): string;
}

/**
 * Reads pg-boss's insert statement and its default parameters off
 * `boss.insert` (given a database that only records), so that a CTE written
 * with it stays what pg-boss itself writes. Its first parameter is the jobs'
 * JSON (`json_to_recordset($1)`); an upgrade that changes that fails the
 * node's start, not a payment.
 */
async function capturePgBossInsert(boss: PgBoss): Promise<PgBossInsert> {
  let captured: { text: string; values: unknown[] } | undefined;
  const recorder = { executeSql: async (text: string, values: unknown[]) => ((captured = { text, values }), { rows: [] }) };
  await boss.insert([], { db: recorder } as PgBoss.InsertOptions);
  const jobsSource = 'json_to_recordset($1)';
  const parts = captured?.text.split(jobsSource) ?? [];
  if (!captured || parts.length !== 2 || parts.some((part) => /\$1(?!\d)/.test(part))) {
    throw new Error('pg-boss: its job insert no longer reads its jobs from json_to_recordset($1); see JobQueue.jobsAlongside');
  }
  const [before, after] = parts;
  // pg-boss's $2.. become the caller's firstParameter..
  const renumbered = (part: string, firstParameter: number) => part.replace(/\$(\d+)/g, (_match, digits: string) => `$${Number(digits) - 2 + firstParameter}`);
  return {
    defaults: captured.values.slice(1),
    readingFrom: (jobsJson, firstParameter) => `${renumbered(before, firstParameter)}json_to_recordset(${jobsJson})${renumbered(after, firstParameter)}`,
  };
}

type SlotItem<T> = { fetched: PgBoss.Job<T> } | { handedOff: HandedOffJob };

export class JobQueue {
  readonly boss: PgBoss;
  /** The queues this node works (one loop each): where a job sent `here` is run. */
  private readonly slotLoops = new Map<QueueName, SlotLoop<SlotItem<unknown>>>();
  private hooks: JobHooks = {};
  /** Handlers running on this node: stop() lets them finish before the pool closes under them. */
  private readonly running = new RunningWork();
  /** True between start() and stop(); /ready reads it. */
  started = false;
  private statistics: PlannerStatisticsKeeper | undefined;
  /** pg-boss's job insert, read off it at start (`jobsAlongside`). */
  private jobInsert: PgBossInsert | undefined;

  constructor(private readonly settings: QueueSettings) {
    this.boss = new PgBoss({
      connectionString: settings.connectionString,
      schema: 'pgboss',
      max: 6,
      application_name: 'gatehouse-jobs',
      maintenanceIntervalSeconds: settings.maintenanceIntervalSeconds,
      // pg-boss hands its settings to its own pg.Pool: its statements are prepared once per connection too (see createPool),
      // and planned once: PostgreSQL kept re-planning the fetch and completion with custom plans, which cost more than running them.
      // A generic plan cannot see how many job ids a completion names, so on a partition of a few thousand jobs it chose to
      // read the whole partition (a hash join) for 1-4 ids, growing with the partition; every statement pg-boss runs on its
      // hot path finds jobs by index, so sequential scans are off on its connections (0.49 -> 0.1 ms per completion).
      Client: PreparingClient,
      options: '-c plan_cache_mode=force_generic_plan -c enable_seqscan=off',
    } as PgBoss.ConstructorOptions);
    this.boss.on('error', () => undefined);
  }

  setHooks(hooks: JobHooks): void {
    this.hooks = hooks;
  }

  /** Workers registered on this node. */
  get workerCount(): number {
    return this.slotLoops.size;
  }

  async start(): Promise<void> {
    await this.boss.start();
    this.jobInsert = await capturePgBossInsert(this.boss);
    // Nodes starting together on a fresh database would deadlock creating the
    // same queues (pg-boss adds a partition per queue): one node at a time.
    const client = new pg.Client({ connectionString: this.settings.connectionString });
    await client.connect();
    try {
      await client.query('SELECT pg_advisory_lock($1)', [queueCreationLock]);
      for (const name of Object.values(queueNames)) {
        if (await this.boss.getQueue(name)) continue;
        await this.boss.createQueue(name, {
          name,
          retryLimit: 20,
          retryDelay: 2,
          retryBackoff: true,
          expireInSeconds: this.settings.expireInSeconds,
          retentionDays: 14,
        });
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [queueCreationLock]).catch(() => undefined);
      await client.end();
    }
    this.statistics = new PlannerStatisticsKeeper(this.boss.getDb() as unknown as StatementRunner, 'pgboss');
    this.statistics.start();
    this.started = true;
  }

  /**
   * Sends a job; one due now wakes this node's idle workers as soon as it is
   * visible (after the commit of `db`), or, sent `here`, is handed to them.
   */
  async send(name: QueueName, data: object, options: SendOptions = {}): Promise<void> {
    const db = options.db;
    const carried = this.carry(name, data);
    const leaseSeconds = options.here && !options.startAfterSeconds ? this.handOffLeaseSeconds(name) : undefined;
    const id = await this.boss.send(name, carried, {
      startAfter: leaseSeconds ?? (options.startAfterSeconds ? Math.ceil(options.startAfterSeconds) : undefined),
      singletonKey: options.singletonKey,
      singletonSeconds: options.singletonKey ? singletonWindowSeconds : undefined,
      ...(options.retryLimit === undefined ? {} : { retryLimit: options.retryLimit }),
      db: db ? { executeSql: (text: string, values: unknown[]) => db.query(text, values) } : undefined,
    });
    // A singleton key already taken: the job that holds it does the work.
    if (leaseSeconds !== undefined) {
      if (id) this.whenCommitted(db, () => this.handOff(name, [{ id, data: carried }], leaseSeconds));
      return;
    }
    if (options.startAfterSeconds) return;
    this.whenCommitted(db, () => this.wake(name));
  }

  private whenCommitted(db: Queryable | undefined, hook: () => void): void {
    if (db) afterCommit(db, hook);
    else hook();
  }

  /** How far ahead a job sent `here` is written: undefined when this node does not work `name`. */
  private handOffLeaseSeconds(name: QueueName): number | undefined {
    // As long as an active job has before it is presumed lost (at least three provider timeouts): a run started in its first half ends within it.
    return this.started && this.slotLoops.has(name) ? this.settings.expireInSeconds : undefined;
  }

  private handOff(name: QueueName, jobs: readonly { id: string; data: object }[], leaseSeconds: number): void {
    const startByMs = Date.now() + (leaseSeconds * 1000) / 2;
    for (const job of jobs) this.slotLoops.get(name)?.offer({ handedOff: { ...job, startByMs } });
  }

  /**
   * The data a job sent later will carry, with what the hooks add now (the
   * current request's id): for work that is sent outside the request that
   * asked for it, such as a batch of accepts written together.
   */
  carry(name: WorkName, data: object): object {
    return this.hooks.beforeSend ? this.hooks.beforeSend(name, data) : data;
  }

  /**
   * Jobs of one queue to be written by another statement, as one of its
   * CTEs, so that what makes the jobs necessary and the jobs commit in one
   * round trip (the Gate's accept: `insertNewPayments`). The CTE is pg-boss's
   * own insert (defaults, the queue's retry and expiry settings, its
   * policy), reading its jobs from an SQL expression instead of a parameter.
   * Once the statement has committed, `written` wakes this node's workers
   * or, sent `here`, hands the jobs to them.
   */
  jobsAlongside(name: QueueName, options: { here?: boolean } = {}): JobsAlongside {
    const insert = this.jobInsert;
    if (!insert) throw new Error('jobsAlongside: the queue has not started');
    const leaseSeconds = options.here ? this.handOffLeaseSeconds(name) : undefined;
    return {
      name,
      startAfter: leaseSeconds === undefined ? null : String(leaseSeconds),
      parameters: insert.defaults,
      insertReading: insert.readingFrom,
      written: (db, jobs) => afterCommit(db, () => (leaseSeconds === undefined ? this.wake(name) : this.handOff(name, jobs, leaseSeconds))),
    };
  }

  /** Wakes this node's idle workers of `name` now instead of at their next poll. */
  wake(name: QueueName): void {
    this.slotLoops.get(name)?.wake();
  }

  /**
   * Runs up to `slots` jobs of `name` at once and refills each slot as soon
   * as its job ends. pg-boss's own `work()` fetches a batch and fetches again
   * only when the whole batch is done, so one slow provider call held up the
   * jobs fetched with it, and new jobs waited for a whole batch to end.
   * pg-boss still owns the jobs: fetching (SKIP LOCKED), retries and expiry
   * after a crash; the completions of one event-loop turn go in one statement.
   */
  async work<T>(name: QueueName, slots: number, handle: (data: T, job: PgBoss.Job<T>) => Promise<void>): Promise<void> {
    if (this.slotLoops.has(name)) throw new Error(`queue ${name} is already worked on this node`);
    const loop = new SlotLoop<SlotItem<T>>(slots, this.settings.pollingIntervalSeconds * 1000, this.settings.pressure);
    // Kept with the other queues' loops, whose jobs carry other data: the map only wakes, stops and hands off.
    this.slotLoops.set(name, loop as SlotLoop<SlotItem<unknown>>);
    const completions = this.perTurn((ids) => this.boss.complete(name, ids));
    const deletions = this.perTurn((ids) => this.boss.deleteJob(name, ids));
    void loop.run(
      async (count) => (await this.boss.fetch<T>(name, { batchSize: count })).map((job) => ({ fetched: job })),
      (item) => {
        // Waited too long for a slot: the lease may run out mid-run, so leave the job to be fetched when it does.
        if ('handedOff' in item && Date.now() > item.handedOff.startByMs) return Promise.resolve();
        const [job, done] = 'fetched' in item ? [item.fetched, completions] : [this.handedOffJob<T>(name, item.handedOff), deletions];
        return this.running.track(this.runOne(name, job, handle).then((succeeded) => (succeeded ? done(job.id) : undefined)));
      },
    );
  }

  /** A handed-off job as pg-boss would have given it to a handler. */
  private handedOffJob<T>(name: QueueName, job: HandedOffJob): PgBoss.Job<T> {
    return { id: job.id, name, data: job.data, expireInSeconds: this.settings.expireInSeconds } as PgBoss.Job<T>;
  }

  /**
   * Calls `send` once per event-loop turn with every id given in that turn.
   * A call lost here (the database went away) leaves the job as it was: it is
   * run again (fetched after its lease, or retried after its expiry), and its
   * handler finds the work done.
   */
  private perTurn(send: (ids: string[]) => Promise<unknown>): (id: string) => Promise<void> {
    const loader = turnBatchLoader<string, undefined>(async (ids) => {
      await send([...ids]);
      return ids.map(() => undefined);
    });
    return (id) => loader.load(id).catch(() => undefined);
  }

  /** Runs work that is not a pg-boss job (a claimed callback) inside the same hooks as a job. */
  instrument(name: WorkName, item: WorkItem, run: () => Promise<void>): Promise<void> {
    return this.hooks.aroundJob ? this.hooks.aroundJob(name, item, run) : run();
  }

  /** Runs one job; a failure fails (and retries) only that job. True when it succeeded. */
  private async runOne<T>(name: QueueName, job: PgBoss.Job<T>, handle: (data: T, job: PgBoss.Job<T>) => Promise<void>): Promise<boolean> {
    try {
      await this.instrument(name, job, () => handle(job.data, job));
      return true;
    } catch (error) {
      await this.boss.fail(name, job.id, { message: error instanceof Error ? error.message : String(error) }).catch(() => undefined);
      return false;
    }
  }

  /**
   * Stops fetching, then waits for the handlers still running here (each is
   * bounded by its provider or callback timeout), so that the platform's pool
   * is not closed under them: a handler cut off that way would fail its job
   * for nothing. A job that outlives `stopWaitMs` is retried elsewhere after
   * it expires, as after a crash. Both waits together stay within the 30 s a
   * node has to stop (docs/deployment.md).
   */
  async stop(stopWaitMs = 15_000): Promise<void> {
    this.started = false;
    for (const loop of this.slotLoops.values()) loop.stop();
    await this.statistics?.stop();
    // Handlers first: their completions go through pg-boss's pool.
    await this.running.settle(stopWaitMs);
    await this.boss.stop({ graceful: true, timeout: 10_000, wait: true });
  }
}
