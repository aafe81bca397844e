import { setTimeout as sleep } from 'node:timers/promises';
import { queueNames } from '../jobs/queue.ts';
import { clockFor, type PlatformContext } from '../processing/context.ts';
import { runDueTasks } from '../scheduler/runner.ts';
import { setTestClock, type Project } from '../store/projects.ts';

/**
 * Moves a test project's clock to `target` the way time would have passed:
 * step by step to each due task, performing it and letting the provider work
 * it started finish before the clock moves on. Without the pause a jump of a
 * month would fire the 3-day threshold of a debit before the debit's own
 * provider call had a chance to run.
 */
const settleTimeoutMs = 15_000;
const stepsMax = 10_000;

export async function advanceTestClock(context: PlatformContext, project: Project, target: Date): Promise<number> {
  let tasksRun = 0;
  let current = clockFor(context, project);
  for (let step = 0; step < stepsMax; step += 1) {
    const next = await nextDueAt(context, project.id, target);
    const stepTo = next && next > current ? next : next ? current : target;
    if (stepTo.getTime() !== current.getTime() || project.testClockAt === null) {
      await setTestClock(context.pool, project.id, stepTo);
      project = { ...project, testClockAt: stepTo };
      current = stepTo;
    }
    if (!next) break;
    tasksRun += await runDueTasks(context, { projectId: project.id });
    await settle(context, project.id, current);
  }
  return tasksRun;
}

async function nextDueAt(context: PlatformContext, projectId: bigint, target: Date): Promise<Date | undefined> {
  const { rows } = await context.pool.query<{ due_at: Date | null }>(
    `SELECT min(due_at) AS due_at FROM scheduled_tasks WHERE project_id = $1 AND status = 'pending' AND due_at <= $2`,
    [String(projectId), target],
  );
  return rows[0]?.due_at ?? undefined;
}

/**
 * Waits (bounded) until this project's due tasks are done and runnable
 * provider jobs have finished: created or active ones (a job handed to the
 * node that sent it is created with its lease ahead, but runs now), and
 * retries that are due.
 */
async function settle(context: PlatformContext, projectId: bigint, now: Date): Promise<void> {
  const deadline = Date.now() + settleTimeoutMs;
  while (Date.now() < deadline) {
    const { rows } = await context.pool.query<{ tasks: number; jobs: number }>(
      `SELECT (SELECT count(*)::int FROM scheduled_tasks WHERE project_id = $1 AND status = 'pending' AND due_at <= $2) AS tasks,
              (SELECT count(*)::int FROM pgboss.job
                WHERE name = ANY($3) AND (state IN ('created', 'active') OR (state = 'retry' AND start_after <= now()))) AS jobs`,
      [String(projectId), now, [queueNames.operationExecute, queueNames.operationComplete]],
    );
    if (rows[0].tasks === 0 && rows[0].jobs === 0) return;
    if (rows[0].tasks > 0) await runDueTasks(context, { projectId });
    await sleep(25);
  }
  context.log.warn({ projectId: String(projectId) }, 'test clock step did not settle in time; moving on');
}
