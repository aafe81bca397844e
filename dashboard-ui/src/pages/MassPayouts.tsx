import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api, segment } from '../api.ts';
import { ProjectSelect, useChosenProject } from '../components/ProjectSelect.tsx';
import { InputField } from '../components/Fields.tsx';
import { EmptyRow, ErrorNotice, Field, LoadStatus, Notice, Page, Section, StatusBadge, TableWrap } from '../components/ui.tsx';
import { formatBytes, formatDateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { batchPath } from '../links.ts';
import { useIsAdmin } from '../session.tsx';
import type { BatchProgress, BatchSummary } from '../types.ts';

/**
 * Mass payouts, step 1: choose a CSV file. The platform checks every row
 * with Gate's payout rules and sends nothing yet; the batch page then shows
 * which rows were rejected and why, and sends the rest when asked.
 */
const maximumBytes = 5 * 1024 * 1024;
const template = [
  'payment_id,amount,currency,account_number,customer_id,description,customer_email,customer_country',
  'prize-0001,10.50,USD,winner1@example.com,customer-1,"Prize, round 1",winner1@example.com,US',
  'prize-0002,25.00,EUR,winner2@example.com,customer-2,Prize round 1,,',
].join('\n');

export default function MassPayouts() {
  const isAdmin = useIsAdmin();
  const navigate = useNavigate();
  const [project, chooseProject] = useChosenProject();
  const [file, setFile] = useState<File | null>(null);
  const [fileError, setFileError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const batches = useLoad(
    (signal) => (project ? api.get<{ batches: BatchSummary[] }>(`/projects/${segment(project.id)}/mass-payouts`, undefined, { signal }) : Promise.resolve({ batches: [] })),
    [project?.id],
  );
  const templateUrl = useMemo(() => URL.createObjectURL(new Blob([`${template}\n`], { type: 'text/csv' })), []);
  useEffect(() => () => URL.revokeObjectURL(templateUrl), [templateUrl]);

  async function upload(event: FormEvent) {
    event.preventDefault();
    if (!project) return;
    if (!file) return setFileError('Choose a CSV file first.');
    if (file.size > maximumBytes) return setFileError(`The file is ${formatBytes(file.size)}; at most ${formatBytes(maximumBytes)} (10,000 rows) are accepted.`);
    setFileError(undefined);
    setBusy(true);
    setError(undefined);
    try {
      const checked = await api.post<BatchProgress>(`/projects/${segment(project.id)}/mass-payouts?${new URLSearchParams({ file_name: file.name })}`, undefined, {
        raw: { body: file, contentType: 'text/csv' },
      });
      navigate(batchPath(project.id, checked.batch.id), { state: { upload: checked } });
    } catch (failure) {
      setError(failure);
      setBusy(false);
    }
  }

  return (
    <Page title="Mass payouts" description="Pay many PayPal accounts from one CSV file. Every row is checked before anything is sent.">
      <Section title="Upload a payout file">
        {!isAdmin ? <Notice kind="info">Your role (viewer) cannot upload payout files.</Notice> : null}
        <form onSubmit={upload} className="form-grid" aria-label="Upload a payout file">
          <Field label="Project" htmlFor="mass-project">
            <ProjectSelect id="mass-project" value={project ? String(project.id) : ''} onChange={chooseProject} required />
          </Field>
          <InputField
            id="mass-file"
            label="CSV file"
            hint="Header row, then one payout per row. At most 10,000 rows."
            error={fileError}
            type="file"
            accept=".csv,text/csv"
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          />
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={!isAdmin || busy || !project}>
              {busy ? 'Checking rows…' : 'Check file'}
            </button>
          </div>
        </form>
        <ErrorNotice error={error} title="The file was not accepted" />
        <details className="help">
          <summary>File format</summary>
          <p>
            Columns (any order): <code>payment_id</code>, <code>amount</code> (in the currency's units, e.g. 10.50; or <code>amount_minor</code> in minor units),{' '}
            <code>currency</code>, <code>account_number</code> (PayPal email or account ID), <code>customer_id</code>; optional <code>description</code>,{' '}
            <code>customer_email</code>, <code>customer_country</code>. Payment IDs must be unique in the file and new to the project.
          </p>
          <p>
            <a href={templateUrl} download="mass-payout-template.csv">
              Download a template
            </a>
          </p>
        </details>
      </Section>

      <Section title="Earlier files">
        <LoadStatus load={batches} errorTitle="Files could not be loaded" />
        {batches.data ? (
          <TableWrap label="Mass payout files">
            <table>
              <thead>
                <tr>
                  <th scope="col">Uploaded</th>
                  <th scope="col">File</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="number">
                    Rows
                  </th>
                  <th scope="col" className="number">
                    Rejected
                  </th>
                </tr>
              </thead>
              <tbody>
                {batches.data.batches.length === 0 ? <EmptyRow columns={5}>No payout files yet.</EmptyRow> : null}
                {batches.data.batches.map((batch) => (
                  <tr key={batch.id}>
                    <td className="nowrap">{formatDateTime(batch.created_at)}</td>
                    <td>
                      <Link to={batchPath(project!.id, batch.id)}>{batch.file_name || `Batch #${batch.id}`}</Link>
                    </td>
                    <td>
                      <StatusBadge status={batch.status} />
                    </td>
                    <td className="number">{batch.rows_total}</td>
                    <td className="number">{batch.rows_rejected}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </Section>
    </Page>
  );
}
