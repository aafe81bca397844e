import { randomUUID } from 'node:crypto';
import { GateError } from '../domain/errors.ts';
import { queueNames } from '../jobs/queue.ts';
import type { PlatformContext } from '../processing/context.ts';
import type { Queryable } from '../store/db.ts';
import { insertNewPayments, paymentKey, type NewPaymentRow, type WrittenPayment } from '../store/new-payments.ts';
import type { Project } from '../store/projects.ts';
import { checkOnboardingGrants } from './permission-rules.ts';

/** A new payment the Gate accepted, ready to be written. */
export interface NewPaymentPlan {
  project: Project;
  method: string;
  row: NewPaymentRow;
}

/** A plan with what writing it needs from the request that made it. */
interface Entry {
  plan: NewPaymentPlan;
  key: string;
  /** The provider job's data, carried from the request (its id for the logs). */
  job: object;
}

function entryOf(context: PlatformContext, plan: NewPaymentPlan): Entry {
  return { plan, key: paymentKey(plan.row.payment.projectId, plan.row.payment.paymentId), job: context.queue.carry(queueNames.operationExecute, {}) };
}

interface Waiting extends Entry {
  resolve: (written: WrittenPayment) => void;
  reject: (error: unknown) => void;
}

/** Rows per statement: its JSON stays small, and a batch's latency short. */
const batchRowsMax = 64;
/** Statements in flight at once: while they run, new accepts gather into the next batch. */
const defaultWritersMax = 4;

/**
 * Group accept. Every accepted sale, auth or payout is a payment, its first
 * operation, their timers and a provider job, written by ONE statement
 * (atomic on its own: no BEGIN, no COMMIT), whatever the number of rows.
 * Up to `defaultWritersMax` statements run at once, each for the accepts that
 * arrived while the previous ones ran, so an idle node writes each accept
 * at once (no waiting for a batch to fill) and a busy one shares each round
 * trip and each commit's WAL flush among many accepts. That is how the
 * platform's accept rate follows PostgreSQL's commit rate rather than its
 * round-trip rate, and why an accept waits for one round trip, not four
 * (docs/performance.md).
 *
 * Each caller still gets its own answer: a payment_id that exists already
 * is 3041 for that request only; a batch that fails as a whole (one row
 * breaking a constraint) is written again one row per statement, so one
 * bad row fails alone.
 */
export class NewPaymentWriter {
  private readonly waiting: Waiting[] = [];
  private writing = 0;

  constructor(
    private readonly context: PlatformContext,
    private readonly writersMax = defaultWritersMax,
  ) {}

  /** Writes one new payment; resolves once it is committed, rejects with 3041 when its payment_id exists. */
  write(plan: NewPaymentPlan): Promise<WrittenPayment> {
    const entry = entryOf(this.context, plan);
    return new Promise((resolve, reject) => {
      this.waiting.push({ ...entry, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.writing < this.writersMax && this.waiting.length > 0) {
      const batch = this.takeBatch();
      this.writing += 1;
      void this.writeBatch(batch).finally(() => {
        this.writing -= 1;
        this.pump();
      });
    }
  }

  /** The oldest waiting accepts, at most one per payment key: a repeated payment_id waits for the next batch, which then answers it 3041. */
  private takeBatch(): Waiting[] {
    const keys = new Set<string>();
    const batch: Waiting[] = [];
    for (let index = 0; index < this.waiting.length && batch.length < batchRowsMax; ) {
      const item = this.waiting[index];
      if (keys.has(item.key)) {
        index += 1;
        continue;
      }
      keys.add(item.key);
      batch.push(item);
      this.waiting.splice(index, 1);
    }
    return batch;
  }

  private async writeBatch(batch: Waiting[]): Promise<void> {
    try {
      const answers = await writeNewPayments(this.context, this.context.gatePool, batch);
      batch.forEach((item, index) => settle(item, answers[index]));
    } catch (error) {
      if (batch.length === 1) return batch[0].reject(error);
      for (const item of batch) await this.writeBatch([item]);
    }
  }
}

type Answer = WrittenPayment | GateError;

function settle(item: Waiting, answer: Answer): void {
  if (answer instanceof GateError) item.reject(answer);
  else item.resolve(answer);
}

/** Writes one plan in the caller's open transaction `db` (an audited Dashboard action), with the same statements; throws its GateError. */
export async function writeNewPaymentIn(context: PlatformContext, db: Queryable, plan: NewPaymentPlan): Promise<WrittenPayment> {
  const [answer] = await writeNewPayments(context, db, [entryOf(context, plan)]);
  if (answer instanceof GateError) throw answer;
  return answer;
}

/**
 * Writes the plans in ONE statement on `db` (the Gate's pool, where it
 * commits on its own, or the caller's open transaction, which it joins): the
 * onboarding rights of production projects are read before anything is
 * written; answers come back in the plans' order, a GateError for each
 * refused or duplicate one.
 */
async function writeNewPayments(context: PlatformContext, db: Queryable, items: readonly Entry[]): Promise<Answer[]> {
  const refusals = await onboardingRefusals(db, items);
  const writable = items.filter((item) => !refusals.has(item.key));
  const alongside = context.queue.jobsAlongside(queueNames.operationExecute, { here: true });
  const perRow = writable.map((item) => ({ id: randomUUID(), data: item.job }));
  const written =
    writable.length === 0 ? new Map<string, WrittenPayment>() : await insertNewPayments(db, writable.map((item) => item.plan.row), { alongside, perRow });
  const jobs = writable.flatMap((item, index) => {
    const payment = written.get(item.key);
    return payment ? [{ id: perRow[index].id, data: { ...item.job, operationId: String(payment.operationId) } }] : [];
  });
  alongside.written(db, jobs);
  return items.map(({ plan, key }) => refusals.get(key) ?? written.get(key) ?? new GateError('paymentIdExists', plan.row.payment.paymentId));
}

/** The plans a production project's PayPal onboarding does not allow, by key (test projects read nothing). */
async function onboardingRefusals(db: Queryable, items: readonly Entry[]): Promise<Map<string, GateError>> {
  const refusals = new Map<string, GateError>();
  for (const { plan, key } of items) {
    try {
      await checkOnboardingGrants(db, plan.project, plan.method, plan.row.operation.type);
    } catch (error) {
      if (!(error instanceof GateError)) throw error;
      refusals.set(key, error);
    }
  }
  return refusals;
}
