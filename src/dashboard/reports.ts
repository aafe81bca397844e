import { Type, type Static } from '@sinclair/typebox';
import { GateError } from '../domain/errors.ts';
import { operationTypes, operationStatuses, paymentStatuses } from '../domain/statuses.ts';
import type { PlatformContext } from '../processing/context.ts';
import { csvExport, type ExportFilters } from '../reports/csv.ts';
import { findReport, generateReport, listReports, reportContent, reportFileName, reportView } from '../reports/files.ts';
import { reportKinds, type ReportKind } from '../reports/queries.ts';
import { createSchedule, deleteSchedule, frequencies, listSchedules, scheduleView, type Frequency } from '../reports/schedules.ts';
import {
  audited,
  idParameter,
  merchantIdOf,
  parseList,
  parseTime,
  projectOf,
  visibleProjectIds,
  type RouteDefinition,
  type SignedCall,
} from './http.ts';
import { listParameter, queryParameters } from './documentation.ts';
import { PaymentFilterQuery, paymentTypes } from './payments.ts';

/**
 * Reports: streaming CSV exports (`/exports/payments.csv`,
 * `/exports/operations.csv`, the list filters as query parameters), stored
 * one-time reports, and daily/weekly/monthly schedules whose reports a timer
 * generates and stores for download.
 */
async function exportSpec(context: PlatformContext, call: SignedCall, kind: ReportKind): Promise<ExportFilters> {
  const query = call.query;
  const projectIds = await visibleProjectIds(context, call, query.project_id, query.mode);
  const common = { projectIds, from: parseTime(query.from, 'from'), to: parseTime(query.to, 'to'), methods: parseList(query.method, undefined, 'method') };
  if (kind === 'payments') {
    return {
      kind,
      filters: {
        ...common,
        statuses: parseList(query.status, paymentStatuses, 'status'),
        types: parseList(query.type, paymentTypes, 'type'),
        search: query.q?.trim() || undefined,
      },
    };
  }
  return { kind, filters: { ...common, statuses: parseList(query.status, operationStatuses, 'status'), types: parseList(query.type, operationTypes, 'type') } };
}

const ReportBody = Type.Object(
  {
    kind: Type.Union(reportKinds.map((kind) => Type.Literal(kind))),
    project_id: Type.Optional(Type.Integer({ minimum: 1 })),
    from: Type.String({ minLength: 10, maxLength: 40 }),
    to: Type.String({ minLength: 10, maxLength: 40 }),
  },
  { additionalProperties: false },
);

const ScheduleBody = Type.Object(
  {
    kind: Type.Union(reportKinds.map((kind) => Type.Literal(kind))),
    frequency: Type.Union(frequencies.map((frequency) => Type.Literal(frequency))),
    project_id: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

const tags = ['Dashboard: reports'] as const;

/** The filters of each export: the payments list's, or the operation ones. */
const exportQueries = {
  payments: PaymentFilterQuery,
  operations: Type.Object({
    project_id: queryParameters.project_id,
    mode: queryParameters.mode,
    from: queryParameters.from,
    to: queryParameters.to,
    status: listParameter(operationStatuses),
    type: listParameter(operationTypes),
    method: queryParameters.method,
  }),
} as const satisfies Record<ReportKind, unknown>;

export function reportRoutes(context: PlatformContext): RouteDefinition[] {
  const streamExport = (kind: ReportKind): RouteDefinition => ({
    method: 'GET',
    url: `/exports/${kind}.csv`,
    access: ['merchant_admin', 'merchant_viewer'],
    summary: `Export ${kind} as CSV`,
    description: `Every ${kind === 'payments' ? 'payment' : 'operation'} matching the filters, oldest first, streamed from a database cursor (memory stays bounded whatever the size). Columns in docs/dashboard-api.md.`,
    tags,
    documentedQuery: exportQueries[kind],
    answerMediaType: 'text/csv',
    async handle(call: SignedCall) {
      const spec = await exportSpec(context, call, kind);
      const output = csvExport(context.pool, spec, (error) => context.log.error({ err: error }, 'export failed midway'));
      call.reply.header('content-type', 'text/csv; charset=utf-8');
      call.reply.header('content-disposition', `attachment; filename="${kind}-${call.now.toISOString().slice(0, 10)}.csv"`);
      return call.reply.send(output.stream);
    },
  });

  return [
    streamExport('payments'),
    streamExport('operations'),
    {
      method: 'GET',
      url: '/reports',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'Stored reports',
      description: 'One-time and scheduled, newest first (at most 200).',
      tags,
      async handle(call: SignedCall) {
        const reports = await listReports(context.pool, merchantIdOf(call.user), 200);
        return { reports: reports.map(reportView) };
      },
    },
    {
      method: 'POST',
      url: '/reports',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'Generate and store a report now',
      description: '`from` and `to` are ISO 8601 dates or times (UTC); all my projects unless `project_id`.',
      tags,
      schema: { body: ReportBody },
      async handle(call: SignedCall<Static<typeof ReportBody>>) {
        const merchantId = merchantIdOf(call.user);
        const project = call.body.project_id === undefined ? undefined : await projectOf(context, call, String(call.body.project_id));
        const from = parseTime(call.body.from, 'from')!;
        const to = parseTime(call.body.to, 'to')!;
        if (to <= from) throw new GateError('invalidFieldFormat', 'from must be before to');
        const projectIds = project ? [project.id] : await visibleProjectIds(context, call, undefined);
        const filters = { projectIds, from, to };
        const report = await audited(context, call, { action: 'report.create', targetType: 'report', details: { kind: call.body.kind } }, (tx) =>
          generateReport(tx, {
            merchantId,
            projectId: project?.id ?? null,
            scheduleId: null,
            createdBy: call.user.id,
            periodFrom: from,
            periodTo: to,
            export: call.body.kind === 'payments' ? { kind: 'payments', filters } : { kind: 'operations', filters },
          }),
        );
        return { report: reportView(report) };
      },
    },
    {
      method: 'GET',
      url: '/reports/:reportId/download',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'Download a stored report',
      tags,
      answerMediaType: 'text/csv',
      async handle(call: SignedCall) {
        const report = await findReport(context.pool, merchantIdOf(call.user), idParameter(call.params.reportId));
        if (!report) throw new GateError('dashboardNotFound', `report ${call.params.reportId}`);
        call.reply.header('content-type', 'text/csv; charset=utf-8');
        call.reply.header('content-disposition', `attachment; filename="${reportFileName(report)}"`);
        call.reply.header('content-length', String(report.byteCount));
        return call.reply.send(reportContent(context.pool, report.id));
      },
    },
    {
      method: 'GET',
      url: '/report-schedules',
      access: ['merchant_admin', 'merchant_viewer'],
      summary: 'Report schedules',
      tags,
      async handle(call: SignedCall) {
        const schedules = await listSchedules(context.pool, merchantIdOf(call.user));
        return { schedules: schedules.map(scheduleView) };
      },
    },
    {
      method: 'POST',
      url: '/report-schedules',
      access: ['merchant_admin'],
      summary: 'Schedule a report',
      description: '`daily`, `weekly` (Monday to Monday) or `monthly`, UTC; each report covers the period that just ended, exactly once.',
      tags,
      schema: { body: ScheduleBody },
      async handle(call: SignedCall<Static<typeof ScheduleBody>>) {
        const merchantId = merchantIdOf(call.user);
        const project = call.body.project_id === undefined ? undefined : await projectOf(context, call, String(call.body.project_id));
        const schedule = await audited(context, call, { action: 'report_schedule.create', targetType: 'report_schedule', details: call.body }, (tx) =>
          createSchedule(tx, {
            merchantId,
            projectId: project?.id ?? null,
            kind: call.body.kind,
            frequency: call.body.frequency as Frequency,
            createdBy: call.user.id,
            now: call.now,
          }),
        );
        return { schedule: scheduleView(schedule) };
      },
    },
    {
      method: 'DELETE',
      url: '/report-schedules/:scheduleId',
      access: ['merchant_admin'],
      summary: 'Stop a report schedule',
      tags,
      async handle(call: SignedCall) {
        const scheduleId = idParameter(call.params.scheduleId);
        return audited(context, call, { action: 'report_schedule.delete', targetType: 'report_schedule', targetId: String(scheduleId) }, async (tx) => {
          if (!(await deleteSchedule(tx, merchantIdOf(call.user), scheduleId))) throw new GateError('dashboardNotFound', `schedule ${scheduleId}`);
          return { deleted: true };
        });
      },
    },
  ];
}
