import { useState, type FormEvent } from 'react';
import { api, apiUrl } from '../api.ts';
import { DateRangeFields } from '../components/Fields.tsx';
import { ProjectSelect, useProjectName } from '../components/ProjectSelect.tsx';
import { ConfirmDialog, EmptyRow, ErrorNotice, Field, LoadStatus, Notice, Page, Section, TableWrap } from '../components/ui.tsx';
import { dayAfter, daysAgo, formatBytes, formatDate, formatDateTime, humanize, isoDay } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import { useIsAdmin } from '../session.tsx';
import type { ReportView, ScheduleView } from '../types.ts';

/**
 * Reports: a one-time CSV of payments or operations for a period (stored,
 * so it can be downloaded again), the list of stored reports (one-time and
 * scheduled), and daily / weekly / monthly schedules.
 */
type ReportKind = 'payments' | 'operations';

function ReportKindSelect({ id, value, onChange }: { id: string; value: ReportKind; onChange(kind: ReportKind): void }) {
  return (
    <select id={id} value={value} onChange={(event) => onChange(event.target.value as ReportKind)}>
      <option value="payments">Payments</option>
      <option value="operations">Operations</option>
    </select>
  );
}

export default function Reports() {
  const isAdmin = useIsAdmin();
  const projectName = useProjectName();
  const reports = useLoad((signal) => api.get<{ reports: ReportView[] }>('/reports', undefined, { signal }), []);
  const schedules = useLoad((signal) => api.get<{ schedules: ScheduleView[] }>('/report-schedules', undefined, { signal }), []);

  const [kind, setKind] = useState<ReportKind>('payments');
  const [projectId, setProjectId] = useState('');
  const [from, setFrom] = useState(isoDay(daysAgo(29)));
  const [to, setTo] = useState(isoDay(new Date()));
  const generation = useAction();
  const [made, setMade] = useState<ReportView>();

  const [scheduleKind, setScheduleKind] = useState<ReportKind>('payments');
  const [frequency, setFrequency] = useState<'daily' | 'weekly' | 'monthly'>('daily');
  const [scheduleProject, setScheduleProject] = useState('');
  const scheduling = useAction();
  const [deleting, setDeleting] = useState<ScheduleView>();
  const deletion = useAction();

  async function generate(event: FormEvent) {
    event.preventDefault();
    setMade(undefined);
    await generation.run(async () => {
      const answer = await api.post<{ report: ReportView }>('/reports', {
        kind,
        from,
        to: dayAfter(to),
        ...(projectId ? { project_id: Number(projectId) } : {}),
      });
      setMade(answer.report);
      await reports.reload();
    });
  }

  async function schedule(event: FormEvent) {
    event.preventDefault();
    await scheduling.run(async () => {
      await api.post('/report-schedules', { kind: scheduleKind, frequency, ...(scheduleProject ? { project_id: Number(scheduleProject) } : {}) });
      await schedules.reload();
    });
  }

  async function remove() {
    if (!deleting) return;
    await deletion.run(async () => {
      await api.delete(`/report-schedules/${deleting.id}`);
      setDeleting(undefined);
      await schedules.reload();
    });
  }

  const exportQuery = { from, to: dayAfter(to), project_id: projectId || undefined };
  return (
    <Page title="Reports" description="CSV files of your payments and operations. Periods are in UTC; the last day is included.">
      <Section title="One-time report">
        <form onSubmit={generate} className="form-grid" aria-label="One-time report">
          <Field label="Content" htmlFor="report-kind">
            <ReportKindSelect id="report-kind" value={kind} onChange={setKind} />
          </Field>
          <Field label="Project" htmlFor="report-project">
            <ProjectSelect id="report-project" value={projectId} onChange={setProjectId} allowAll />
          </Field>
          <DateRangeFields idPrefix="report" from={from} to={to} onFromChange={setFrom} onToChange={setTo} required />
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={generation.busy}>
              {generation.busy ? 'Generating…' : 'Generate report'}
            </button>
            <a className="button button-secondary" href={apiUrl(`/exports/${kind}.csv`, exportQuery)} download>
              Download now without storing
            </a>
          </div>
        </form>
        <ErrorNotice error={generation.error} title="The report was not generated" />
        {made ? (
          <Notice kind="success">
            Report ready: {made.row_count} row{made.row_count === 1 ? '' : 's'}.{' '}
            <a href={apiUrl(`/reports/${made.id}/download`)} download={made.file_name} data-testid="new-report-download">
              Download {made.file_name}
            </a>
          </Notice>
        ) : null}
      </Section>

      <Section title="Stored reports">
        <LoadStatus load={reports} errorTitle="Reports could not be loaded" />
        {reports.data ? (
          <TableWrap label="Stored reports">
            <table>
              <thead>
                <tr>
                  <th scope="col">Created</th>
                  <th scope="col">Content</th>
                  <th scope="col">Project</th>
                  <th scope="col">Period</th>
                  <th scope="col" className="number">
                    Rows
                  </th>
                  <th scope="col" className="number">
                    Size
                  </th>
                  <th scope="col">File</th>
                </tr>
              </thead>
              <tbody>
                {reports.data.reports.length === 0 ? <EmptyRow columns={7}>No reports yet.</EmptyRow> : null}
                {reports.data.reports.map((report) => (
                  <tr key={report.id}>
                    <td className="nowrap">{formatDateTime(report.created_at)}</td>
                    <td>
                      {humanize(report.kind)}
                      {report.schedule_id ? ' (scheduled)' : ''}
                    </td>
                    <td>{projectName(report.project_id)}</td>
                    <td className="nowrap">
                      {formatDate(report.period_from)} – {formatDate(new Date(new Date(report.period_to).getTime() - 1).toISOString())}
                    </td>
                    <td className="number">{report.row_count}</td>
                    <td className="number">{formatBytes(report.byte_count)}</td>
                    <td>
                      <a href={apiUrl(`/reports/${report.id}/download`)} download={report.file_name}>
                        Download<span className="sr-only"> {report.file_name}</span>
                      </a>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </Section>

      <Section title="Scheduled reports">
        <p className="muted">Each schedule stores a report for the period that just ended (UTC days; weeks run Monday to Monday). They appear under stored reports.</p>
        {isAdmin ? (
          <form onSubmit={schedule} className="form-grid" aria-label="New schedule">
            <Field label="Content" htmlFor="schedule-kind">
              <ReportKindSelect id="schedule-kind" value={scheduleKind} onChange={setScheduleKind} />
            </Field>
            <Field label="Every" htmlFor="schedule-frequency">
              <select id="schedule-frequency" value={frequency} onChange={(event) => setFrequency(event.target.value as typeof frequency)}>
                <option value="daily">Day</option>
                <option value="weekly">Week</option>
                <option value="monthly">Month</option>
              </select>
            </Field>
            <Field label="Project" htmlFor="schedule-project">
              <ProjectSelect id="schedule-project" value={scheduleProject} onChange={setScheduleProject} allowAll />
            </Field>
            <div className="form-actions">
              <button type="submit" className="button button-primary" disabled={scheduling.busy}>
                Add schedule
              </button>
            </div>
          </form>
        ) : null}
        <ErrorNotice error={scheduling.error} title="The schedule was not added" />
        <ErrorNotice error={schedules.error} title="Schedules could not be loaded" />
        {schedules.data ? (
          <TableWrap label="Scheduled reports">
            <table>
              <thead>
                <tr>
                  <th scope="col">Content</th>
                  <th scope="col">Every</th>
                  <th scope="col">Project</th>
                  <th scope="col">Next report</th>
                  {isAdmin ? <th scope="col">Actions</th> : null}
                </tr>
              </thead>
              <tbody>
                {schedules.data.schedules.length === 0 ? <EmptyRow columns={isAdmin ? 5 : 4}>No schedules.</EmptyRow> : null}
                {schedules.data.schedules.map((item) => (
                  <tr key={item.id}>
                    <td>{humanize(item.kind)}</td>
                    <td>{{ daily: 'Day', weekly: 'Week', monthly: 'Month' }[item.frequency]}</td>
                    <td>{projectName(item.project_id)}</td>
                    <td className="nowrap">{formatDateTime(item.next_run_at)}</td>
                    {isAdmin ? (
                      <td>
                        <button type="button" className="button button-secondary button-small" onClick={() => setDeleting(item)}>
                          Stop<span className="sr-only"> the {item.frequency} {item.kind} report</span>
                        </button>
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </Section>
      <ConfirmDialog
        isOpen={!!deleting}
        title="Stop this scheduled report?"
        confirmLabel="Stop schedule"
        tone="danger"
        error={deletion.error}
        onConfirm={() => void remove()}
        onClose={() => {
          setDeleting(undefined);
          deletion.clearError();
        }}
      >
        <p>Reports already made stay available.</p>
      </ConfirmDialog>
    </Page>
  );
}
