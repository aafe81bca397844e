import { useState } from 'react';
import { ProgressBar, Label } from 'react-aria-components';
import { Link, useLocation, useParams } from 'react-router-dom';
import { api, apiUrl, segment } from '../api.ts';
import { useProjectName } from '../components/ProjectSelect.tsx';
import { ConfirmDialog, DefinitionList, EmptyRow, ErrorNotice, Loading, Notice, Page, Section, StatusBadge, TableWrap } from '../components/ui.tsx';
import { formatDateTime, humanize } from '../format.ts';
import { useLoad, usePolling } from '../hooks.ts';
import { useIsAdmin } from '../session.tsx';
import type { BatchProgress } from '../types.ts';

/**
 * Mass payouts, step 2: the checked file. Shows the rejected rows (with
 * the code and reason of each, also after a reload: the server answers
 * them with the batch) and how many are ready; "Send" starts the job, and
 * a progress bar follows it (polling once a second) until every row is
 * sent; the per-row results download as CSV at any time.
 */
export default function MassPayoutBatch() {
  const { projectId = '', batchId = '' } = useParams();
  const location = useLocation();
  const isAdmin = useIsAdmin();
  const projectName = useProjectName();
  const uploaded = (location.state as { upload?: BatchProgress } | null)?.upload;
  const progress = useLoad(
    (signal) => api.get<BatchProgress>(`/projects/${segment(projectId)}/mass-payouts/${segment(batchId)}`, undefined, { signal }),
    [projectId, batchId],
  );
  const [confirm, setConfirm] = useState<'start' | 'cancel'>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const data = progress.data ?? (uploaded && String(uploaded.batch.id) === batchId ? uploaded : undefined);
  usePolling(data?.batch.status === 'running', () => progress.reload(), 1_000, 3_600);

  async function act() {
    if (!confirm) return;
    setBusy(true);
    setError(undefined);
    try {
      await api.post(`/projects/${segment(projectId)}/mass-payouts/${segment(batchId)}/${confirm}`, {});
      setConfirm(undefined);
      await progress.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  if (!data) {
    return (
      <Page title={`Mass payout #${batchId}`}>
        <ErrorNotice error={progress.error} title="The file could not be loaded" />
        {progress.loading ? <Loading /> : null}
      </Page>
    );
  }
  const { batch, rows } = data;
  const rejectedRows = data.rejected_rows ?? [];
  const valid = rows.total - rows.rejected;
  const resultsUrl = apiUrl(`/projects/${segment(projectId)}/mass-payouts/${segment(batchId)}/results.csv`);

  return (
    <Page
      title={`Mass payout: ${batch.file_name || `#${batch.id}`}`}
      description={
        <>
          <StatusBadge status={batch.status} /> {projectName(batch.project_id)} · uploaded {formatDateTime(batch.created_at)}
        </>
      }
      actions={<Link to={`/mass-payouts?project=${batch.project_id}`}>All payout files</Link>}
    >
      <ErrorNotice error={progress.error} title="Refreshing failed" />
      <Section title={batch.status === 'validated' ? 'Check result' : 'Progress'}>
        <ul className="tiles" aria-label="Row counts">
          <li className="tile">
            <span className="tile-label">Rows in file</span>
            <span className="tile-value" data-testid="rows-total">
              {rows.total}
            </span>
          </li>
          <li className="tile">
            <span className="tile-label">Ready to send</span>
            <span className="tile-value" data-testid="rows-valid">
              {valid}
            </span>
          </li>
          <li className={`tile${rows.rejected ? ' tile-bad' : ''}`}>
            <span className="tile-label">Rejected</span>
            <span className="tile-value" data-testid="rows-rejected">
              {rows.rejected}
            </span>
          </li>
          {batch.status !== 'validated' ? (
            <>
              <li className="tile">
                <span className="tile-label">Sent</span>
                <span className="tile-value" data-testid="rows-accepted">
                  {rows.accepted}
                </span>
              </li>
              <li className={`tile${rows.failed ? ' tile-bad' : ''}`}>
                <span className="tile-label">Failed at sending</span>
                <span className="tile-value">{rows.failed}</span>
              </li>
            </>
          ) : null}
        </ul>

        {batch.status === 'validated' ? (
          <>
            {valid === 0 ? <Notice kind="error">No row can be sent: fix the file and upload it again.</Notice> : null}
            {isAdmin ? (
              <div className="button-row">
                <button type="button" className="button button-primary" onClick={() => setConfirm('start')} disabled={valid === 0}>
                  Send {valid} payout{valid === 1 ? '' : 's'}…
                </button>
                <button type="button" className="button button-secondary" onClick={() => setConfirm('cancel')}>
                  Discard file
                </button>
              </div>
            ) : (
              <p className="muted">An admin of your merchant can send this file.</p>
            )}
          </>
        ) : (
          <ProgressBar className="progress" value={data.progress_percent} minValue={0} maxValue={100}>
            {({ percentage, valueText }) => (
              <>
                <div className="progress-label">
                  <Label>{batch.status === 'running' ? 'Sending payouts' : batch.status === 'cancelled' ? 'Stopped' : 'All rows sent'}</Label>
                  <span className="progress-value">{valueText}</span>
                </div>
                <div className="progress-track">
                  <div className="progress-fill" style={{ width: `${percentage ?? 0}%` }} />
                </div>
              </>
            )}
          </ProgressBar>
        )}
        {batch.status === 'done' ? (
          <Notice kind="success">
            Finished {formatDateTime(batch.finished_at)}: {rows.accepted} payout{rows.accepted === 1 ? '' : 's'} accepted, {rows.failed} failed, {rows.rejected}{' '}
            rejected at the check.
          </Notice>
        ) : null}
        {Object.keys(data.payment_statuses).length ? (
          <DefinitionList items={Object.entries(data.payment_statuses).map(([status, count]) => [`Payouts ${humanize(status).toLowerCase()}`, String(count)])} />
        ) : null}
        <p>
          <a className="button button-secondary" href={resultsUrl} download>
            Download per-row results (CSV)
          </a>
        </p>
      </Section>

      {rows.rejected > 0 ? (
        <Section title="Rejected rows">
          <p>
            Rejected rows are never sent.{' '}
            {rejectedRows.length < rows.rejected
              ? `The first ${rejectedRows.length} of ${rows.rejected} are listed here; the results file has them all.`
              : 'The results file lists them too, with every other row.'}
          </p>
          <TableWrap label="Rejected rows">
            <table data-testid="rejected-rows">
              <thead>
                <tr>
                  <th scope="col" className="number">
                    Row
                  </th>
                  <th scope="col">Payment ID</th>
                  <th scope="col">Code</th>
                  <th scope="col">Reason</th>
                </tr>
              </thead>
              <tbody>
                {rejectedRows.length === 0 ? <EmptyRow columns={4}>None.</EmptyRow> : null}
                {rejectedRows.map((row) => (
                  <tr key={row.row_number}>
                    <td className="number">{row.row_number}</td>
                    <td className="mono">{row.payment_id ?? '—'}</td>
                    <td className="mono">{row.code || '—'}</td>
                    <td>{row.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        </Section>
      ) : null}

      <ConfirmDialog
        isOpen={!!confirm}
        title={confirm === 'start' ? `Send ${valid} payouts?` : 'Discard this file?'}
        confirmLabel={confirm === 'start' ? 'Send payouts' : 'Discard'}
        tone={confirm === 'start' ? 'primary' : 'danger'}
        busy={busy}
        error={error}
        onConfirm={() => void act()}
        onClose={() => {
          setConfirm(undefined);
          setError(undefined);
        }}
      >
        {confirm === 'start' ? (
          <p>
            {valid} payout{valid === 1 ? '' : 's'} will be sent from project {projectName(batch.project_id)}. {rows.rejected} rejected row
            {rows.rejected === 1 ? ' is' : 's are'} left out. Sending cannot be undone.
          </p>
        ) : (
          <p>Nothing from this file will be sent. You can upload a corrected file afterwards.</p>
        )}
      </ConfirmDialog>
    </Page>
  );
}
