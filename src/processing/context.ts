import type { DeliverableCallback } from '../callbacks/deliver.ts';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { IntakePressure } from '../jobs/intake-pressure.ts';
import type { JobQueue } from '../jobs/queue.ts';
import type { PaymentMethod } from '../methods/types.ts';
import type { CredentialCipher } from '../security/credentials.ts';
import type { Queryable } from '../store/db.ts';
import type { Project, ProjectReader } from '../store/projects.ts';

export interface CallbackAttemptReport {
  callbackId: bigint;
  attempt: number;
  httpStatus: number | null;
  latencyMs: number;
  error: string | null;
  /** The callback's status after this attempt. */
  status: 'pending' | 'delivered' | 'failed';
}

/**
 * Callback delivery on this node, as the code that writes callbacks sees it.
 * A callback written on a node that delivers callbacks is written already
 * claimed by that node (`next_attempt_at` a lease ahead) and handed to its
 * delivery after the commit: delivered at once, with no claim statement and
 * no second row update. Should the node die first, the lease runs out and any
 * node claims it from the table, as after a crash mid-attempt.
 */
export interface CallbackDelivery {
  /** Callbacks due now were committed without a hand-off (another process, a replay): claim them now, not at the next poll. */
  wake(): void;
  /** The lease a callback written here is born with, for `handOff`; undefined when this node does not deliver callbacks. */
  handOffLeaseSeconds(): number | undefined;
  /** A callback written with that lease has committed: deliver it in the next free slot. */
  handOff(callback: HandedOffCallback): void;
}

/** A callback as delivery needs it, with the id of the request that caused it (for its logs). */
export interface HandedOffCallback extends DeliverableCallback {
  request_id: string | null;
}

/** What the processing layer needs from the running platform. */
export interface PlatformContext {
  pool: pg.Pool;
  /**
   * Connections for Gate requests alone (GATE_POOL_SIZE). Background work
   * (provider jobs, callbacks, webhooks) can fill `pool` during a burst;
   * a merchant's request then still finds a connection here at once
   * instead of queueing behind that work (docs/performance.md).
   */
  gatePool: pg.Pool;
  /** `projects`, read through `gatePool`. */
  gateProjects: ProjectReader;
  queue: JobQueue;
  /** Gate requests in flight on this node: background work yields to them (src/jobs/intake-pressure.ts). */
  intake: IntakePressure;
  /** Callback delivery on this node. */
  callbacks: CallbackDelivery;
  methods: ReadonlyMap<string, PaymentMethod>;
  config: Config;
  log: Logger;
  /** The one clock every time rule reads. */
  now: () => Date;
  /**
   * Units of each currency per 1 USD, from the operator's FX table (cached
   * for 30 s). `db` is the connection to read through on a cache miss: the
   * caller's transaction when it is in one, never a second pool connection
   * (a pool full of transactions each waiting for another connection would
   * deadlock the node).
   */
  usdRates: (db: Queryable) => Promise<ReadonlyMap<string, string>>;
  /** Told of every callback delivery attempt (metrics); optional. */
  onCallbackAttempt?: (attempt: CallbackAttemptReport) => void;
  /** HMAC key for the return URLs we hand to wallets (so a forged "cancelled" return cannot decline a payment). */
  urlSigningKey: string;
  /** Projects read for concurrent requests together (never cached); outside a transaction only. */
  projects: ProjectReader;
  /** Seals and opens merchants' stored credentials (production projects' PayPal client secrets). */
  credentials: CredentialCipher;
}

export function methodOf(context: PlatformContext, name: string): PaymentMethod {
  const method = context.methods.get(name);
  if (!method) throw new Error(`payment method ${name} is not registered`);
  return method;
}


/** The one clock every time rule of a project reads: its test clock when set, else real time. */
export function clockFor(context: PlatformContext, project: Pick<Project, 'testClockAt'>): Date {
  return project.testClockAt ?? context.now();
}

/** May this project's callback and return URLs point at loopback/private networks? Never in production. */
export function allowsPrivateUrls(context: PlatformContext, project: Pick<Project, 'mode'>): boolean {
  return project.mode === 'test' && context.config.testProjectsAllowPrivateUrls;
}
