import cookie from '@fastify/cookie';
import type { FastifyInstance } from 'fastify';
import { GateError } from '../domain/errors.ts';
import type { PlatformContext } from '../processing/context.ts';
import { startReportScheduler } from '../reports/schedules.ts';
import { apiPrefix, registerRoutes } from './http.ts';
import { insightRoutes } from './insights.ts';
import { massPayoutRoutes, startMassPayoutWorker } from './mass-payouts.ts';
import { notificationRoutes } from './notifications.ts';
import { operatorRoutes } from './operator.ts';
import { paymentLinkRoutes } from './payment-links.ts';
import { paymentRoutes } from './payments.ts';
import { pciExpiryRoutes } from './pci-expiries.ts';
import { payoutRoutes } from './payouts.ts';
import { projectRoutes } from './projects.ts';
import { reportRoutes } from './reports.ts';
import { sessionRoutes } from './session.ts';
import { userRoutes } from './users.ts';

/**
 * The Dashboard's JSON API under /dashboard/api (the React dashboard and the
 * operator console are built on it; see docs/dashboard-api.md). Also starts
 * this node's mass payout worker and report scheduler, stopped when the
 * server closes.
 */
export interface DashboardOptions {
  context: PlatformContext;
  /** How often each node looks for mass payout rows to send and reports that fell due. */
  workerIntervalMs?: number;
  reportIntervalMs?: number;
}

export async function dashboardRoutes(app: FastifyInstance, options: DashboardOptions): Promise<void> {
  const { context } = options;
  const worker = startMassPayoutWorker(context, options.workerIntervalMs ?? 1_000);
  const reports = startReportScheduler(context, options.reportIntervalMs ?? 30_000);
  app.addHook('onClose', async () => {
    await worker.stop();
    await reports.stop();
  });
  await dashboardApiRoutes(app, { context, kickMassPayouts: worker.kick });
}

/**
 * The API's routes alone, without this node's workers: what `dashboardRoutes`
 * serves, and what the OpenAPI build registers to document them.
 */
export async function dashboardApiRoutes(app: FastifyInstance, options: { context: PlatformContext; kickMassPayouts: () => void }): Promise<void> {
  const { context } = options;
  await app.register(cookie);
  // Mass payout files arrive as text/csv; the route bounds their size.
  app.addContentTypeParser(['text/csv', 'application/csv'], { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.addHook('onSend', async (request, reply) => {
    if (request.url.startsWith(apiPrefix)) reply.header('cache-control', 'no-store');
  });

  registerRoutes(app, context, [
    ...sessionRoutes(context),
    ...projectRoutes(context),
    ...paymentRoutes(context),
    ...payoutRoutes(context),
    ...paymentLinkRoutes(context),
    ...massPayoutRoutes(context, options.kickMassPayouts),
    ...insightRoutes(context),
    ...reportRoutes(context),
    ...userRoutes(context),
    ...notificationRoutes(context),
    ...operatorRoutes(context),
    ...pciExpiryRoutes(context),
  ]);
  // An unknown path under the API prefix answers in the API's error format.
  app.all(`${apiPrefix}/*`, async () => {
    throw new GateError('dashboardNotFound');
  });
}
