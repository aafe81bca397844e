import { useEffect, useState, type FormEvent } from 'react';
import { Link, useLocation, useSearchParams } from 'react-router-dom';
import { paymentStatuses } from '../../../src/domain/statuses.ts';
import { api, apiUrl } from '../api.ts';
import { ProjectSelect, useProjectName } from '../components/ProjectSelect.tsx';
import { DateRangeFields, FilterBar, InputField, ModeField } from '../components/Fields.tsx';
import { EmptyRow, Field, LoadStatus, Page, StatusBadge, TableWrap } from '../components/ui.tsx';
import { dayAfter, formatDateTime, formatDecimal, humanize } from '../format.ts';
import { useLoad } from '../hooks.ts';
import { paymentPath } from '../links.ts';
import type { PaymentList } from '../types.ts';

/**
 * The payments list: filters and search live in the address (?status=...),
 * so a filtered list can be bookmarked, shared and reloaded. Paging follows
 * the API's cursor; the cursors of earlier pages travel in the history
 * state, so "Previous page" and the browser's Back button agree.
 */
const filterKeys = ['from', 'to', 'status', 'type', 'method', 'project_id', 'mode', 'q', 'limit'] as const;
type FilterKey = (typeof filterKeys)[number];
type Filters = Record<FilterKey, string>;

const emptyFilters: Filters = { from: '', to: '', status: '', type: '', method: '', project_id: '', mode: '', q: '', limit: '25' };

function filtersFrom(params: URLSearchParams): Filters {
  const filters = { ...emptyFilters };
  for (const key of filterKeys) filters[key] = params.get(key) ?? emptyFilters[key];
  return filters;
}

/** The API's query: `to` is exclusive there, while people pick the last day they want included. */
function apiQuery(filters: Filters, cursor: string | null): Record<string, string | undefined> {
  return {
    ...filters,
    to: filters.to ? dayAfter(filters.to) : undefined,
    q: filters.q.trim() || undefined,
    cursor: cursor ?? undefined,
  };
}

export default function Payments() {
  const [params, setParams] = useSearchParams();
  const location = useLocation();
  const applied = filtersFrom(params);
  const cursor = params.get('cursor');
  const earlierCursors: (string | null)[] = (location.state as { cursors?: (string | null)[] } | null)?.cursors ?? [];
  const [draft, setDraft] = useState<Filters>(applied);
  const projectName = useProjectName();
  const queryKey = params.toString();

  useEffect(() => setDraft(filtersFrom(new URLSearchParams(queryKey))), [queryKey]);

  const list = useLoad((signal) => api.get<PaymentList>('/payments', apiQuery(applied, cursor), { signal }), [queryKey]);

  function apply(next: Filters, nextCursor: string | null = null, cursors: (string | null)[] = []) {
    const search = new URLSearchParams();
    for (const key of filterKeys) if (next[key] && next[key] !== emptyFilters[key]) search.set(key, next[key]);
    if (nextCursor) search.set('cursor', nextCursor);
    setParams(search, { state: { cursors } });
  }

  function submit(event: FormEvent) {
    event.preventDefault();
    apply(draft);
  }

  const setValue = (key: FilterKey) => (value: string) => setDraft((current) => ({ ...current, [key]: value }));
  const set = (key: FilterKey) => (event: { target: { value: string } }) => setValue(key)(event.target.value);
  const exportQuery = apiQuery(applied, null);
  delete exportQuery.limit;
  delete exportQuery.cursor;

  return (
    <Page
      title="Payments"
      description="Purchases, payouts and COF debits of your projects. Times are UTC."
      actions={
        <a className="button button-secondary" href={apiUrl('/exports/payments.csv', exportQuery)} download>
          Export CSV
        </a>
      }
    >
      <FilterBar label="Filter payments" search onSubmit={submit}>
        <InputField
          id="filter-q"
          label="Search"
          hint="Exact match on the payment ID, the customer ID or the account number."
          wide
          type="search"
          value={draft.q}
          onChange={set('q')}
          placeholder="Payment ID, customer ID or account"
        />
        <DateRangeFields idPrefix="filter" from={draft.from} to={draft.to} onFromChange={setValue('from')} onToChange={setValue('to')} />
        <Field label="Status" htmlFor="filter-status">
          <select id="filter-status" value={draft.status} onChange={set('status')}>
            <option value="">Any status</option>
            {paymentStatuses.map((status) => (
              <option key={status} value={status}>
                {humanize(status)}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Type" htmlFor="filter-type">
          <select id="filter-type" value={draft.type} onChange={set('type')}>
            <option value="">Any type</option>
            <option value="purchase">Purchase</option>
            <option value="payout">Payout</option>
            <option value="recurring">COF debit (recurring)</option>
          </select>
        </Field>
        <Field label="Method" htmlFor="filter-method">
          <select id="filter-method" value={draft.method} onChange={set('method')}>
            <option value="">Any method</option>
            <option value="paypal">PayPal</option>
          </select>
        </Field>
        <Field label="Project" htmlFor="filter-project">
          <ProjectSelect id="filter-project" value={draft.project_id} onChange={setValue('project_id')} allowAll />
        </Field>
        <ModeField id="filter-mode" value={draft.mode} onChange={setValue('mode')} />
        <Field label="Per page" htmlFor="filter-limit">
          <select id="filter-limit" value={draft.limit} onChange={set('limit')}>
            <option>25</option>
            <option>50</option>
            <option>100</option>
          </select>
        </Field>
        <div className="filter-actions">
          <button type="submit" className="button button-primary">
            Apply
          </button>
          <button type="button" className="button button-secondary" onClick={() => apply(emptyFilters)}>
            Reset
          </button>
        </div>
      </FilterBar>

      <LoadStatus load={list} errorTitle="Payments could not be loaded" />
      {list.data ? (
        <>
          <p className="result-count" role="status" aria-live="polite">
            {list.loading ? 'Updating…' : `Page ${earlierCursors.length + 1}: ${list.data.payments.length} payment${list.data.payments.length === 1 ? '' : 's'}`}
          </p>
          <TableWrap label="Payments">
            <table>
              <thead>
                <tr>
                  <th scope="col">Created</th>
                  <th scope="col">Payment ID</th>
                  <th scope="col">Project</th>
                  <th scope="col">Type</th>
                  <th scope="col">Status</th>
                  <th scope="col" className="number">
                    Amount
                  </th>
                  <th scope="col">Customer</th>
                  <th scope="col">Account</th>
                </tr>
              </thead>
              <tbody>
                {list.data.payments.length === 0 ? <EmptyRow columns={8}>No payments match these filters.</EmptyRow> : null}
                {list.data.payments.map((payment) => (
                  <tr key={`${payment.project_id}/${payment.payment_id}`}>
                    <td className="nowrap">{formatDateTime(payment.created_at)}</td>
                    <td>
                      <Link to={paymentPath(payment.project_id, payment.payment_id)} className="mono">
                        {payment.payment_id}
                      </Link>
                    </td>
                    <td>{projectName(payment.project_id)}</td>
                    <td>
                      {humanize(payment.type)} · {payment.method === 'paypal' ? 'PayPal' : payment.method}
                    </td>
                    <td>
                      <StatusBadge status={payment.status} />
                    </td>
                    <td className="number nowrap">{formatDecimal(payment.amount, payment.currency)}</td>
                    <td className="mono">{payment.customer_id ?? '—'}</td>
                    <td className="mono">{payment.account_number ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          <nav className="pager" aria-label="Pages">
            <button
              type="button"
              className="button button-secondary"
              disabled={earlierCursors.length === 0}
              onClick={() => apply(applied, earlierCursors[earlierCursors.length - 1], earlierCursors.slice(0, -1))}
            >
              Previous page
            </button>
            <button
              type="button"
              className="button button-secondary"
              disabled={!list.data.next_cursor}
              onClick={() => apply(applied, list.data!.next_cursor, [...earlierCursors, cursor])}
            >
              Next page
            </button>
          </nav>
        </>
      ) : null}
    </Page>
  );
}
