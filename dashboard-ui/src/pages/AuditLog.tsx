import { useState } from 'react';
import { api } from '../api.ts';
import { EmptyRow, LoadStatus, Page, StatusBadge, TableWrap } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useLoad } from '../hooks.ts';

/**
 * The audit log, newest first: sign-ins, money actions, settings and user
 * changes, each with who, what, the outcome and the address. Merchant
 * admins see their merchant's entries; operators see everything.
 */
interface Entry {
  id: string;
  at: string;
  actor_email: string | null;
  merchant_id: number | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  details: Record<string, unknown> | null;
  ip_address: string | null;
}

export default function AuditLog({ scope }: { scope: 'merchant' | 'operator' }) {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const path = scope === 'operator' ? '/operator/audit-log' : '/audit-log';
  const log = useLoad((signal) => api.get<{ entries: Entry[]; next_cursor: string | null }>(path, { limit: '50', cursor }, { signal }), [path, cursor]);
  return (
    <Page title="Audit log" description="Every sign-in and every change, newest first. Entries cannot be edited or deleted.">
      <LoadStatus load={log} errorTitle="The audit log could not be loaded" />
      {log.data ? (
        <>
          <TableWrap label="Audit log">
            <table className="compact">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Who</th>
                  {scope === 'operator' ? <th scope="col">Merchant</th> : null}
                  <th scope="col">Action</th>
                  <th scope="col">Target</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">Details</th>
                  <th scope="col">Address</th>
                </tr>
              </thead>
              <tbody>
                {log.data.entries.length === 0 ? <EmptyRow columns={scope === 'operator' ? 8 : 7}>No entries.</EmptyRow> : null}
                {log.data.entries.map((entry) => (
                  <tr key={entry.id}>
                    <td className="nowrap">{formatDateTime(entry.at)}</td>
                    <td>{entry.actor_email ?? '—'}</td>
                    {scope === 'operator' ? <td>{entry.merchant_id ?? '—'}</td> : null}
                    <td className="mono">{entry.action}</td>
                    <td className="mono">{entry.target_type ? `${entry.target_type} ${entry.target_id ?? ''}` : '—'}</td>
                    <td>
                      <StatusBadge status={entry.outcome === 'failure' ? 'failed' : entry.outcome} />
                    </td>
                    <td className="excerpt mono">{entry.details && Object.keys(entry.details).length ? JSON.stringify(entry.details) : ''}</td>
                    <td className="mono">{entry.ip_address ?? ''}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          <nav className="pager" aria-label="Pages">
            <button type="button" className="button button-secondary" disabled={cursors.length < 2} onClick={() => setCursors((list) => list.slice(0, -1))}>
              Newer entries
            </button>
            <button
              type="button"
              className="button button-secondary"
              disabled={!log.data.next_cursor}
              onClick={() => setCursors((list) => [...list, log.data!.next_cursor ?? undefined])}
            >
              Older entries
            </button>
          </nav>
        </>
      ) : null}
    </Page>
  );
}
