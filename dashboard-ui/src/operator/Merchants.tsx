import { useState, type FormEvent } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../api.ts';
import { EmptyRow, ErrorNotice, Field, LoadStatus, Notice, Page, Section, StatusBadge, TableWrap } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import type { MerchantView } from '../types.ts';

/** Operator console: every merchant, its projects and PCI DSS status; add a merchant. */
type MerchantRow = MerchantView & { pci_status: string; projects: number[] };

export default function Merchants() {
  const merchants = useLoad((signal) => api.get<{ merchants: MerchantRow[] }>('/operator/merchants', undefined, { signal }), []);
  const [name, setName] = useState('');
  const creating = useAction();
  const [created, setCreated] = useState<MerchantView>();

  async function create(event: FormEvent) {
    event.preventDefault();
    await creating.run(async () => {
      const answer = await api.post<{ merchant: MerchantView }>('/operator/merchants', { name: name.trim() });
      setCreated(answer.merchant);
      setName('');
      await merchants.reload();
    });
  }

  return (
    <Page title="Merchants" description="Merchants, their projects and their PCI DSS documents.">
      <Section title="All merchants">
        <LoadStatus load={merchants} errorTitle="Merchants could not be loaded" />
        {merchants.data ? (
          <TableWrap label="Merchants">
            <table>
              <thead>
                <tr>
                  <th scope="col">ID</th>
                  <th scope="col">Name</th>
                  <th scope="col">Projects</th>
                  <th scope="col">PCI DSS</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <tbody>
                {merchants.data.merchants.length === 0 ? <EmptyRow columns={5}>No merchants yet.</EmptyRow> : null}
                {merchants.data.merchants.map((merchant) => (
                  <tr key={merchant.id}>
                    <td className="mono">{merchant.id}</td>
                    <th scope="row">
                      <Link to={`/operator/merchants/${merchant.id}`}>{merchant.name}</Link>
                    </th>
                    <td>{merchant.projects.length ? merchant.projects.map((id) => `#${id}`).join(', ') : '—'}</td>
                    <td>
                      <StatusBadge status={merchant.pci_status} />
                    </td>
                    <td className="nowrap">{formatDateTime(merchant.created_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </Section>
      <Section title="Add a merchant">
        <form onSubmit={create} className="form-inline" aria-label="Add a merchant">
          <Field label="Merchant name" htmlFor="merchant-name">
            <input id="merchant-name" required maxLength={200} value={name} onChange={(event) => setName(event.target.value)} />
          </Field>
          <button type="submit" className="button button-primary" disabled={creating.busy}>
            Add merchant
          </button>
        </form>
        <ErrorNotice error={creating.error} title="The merchant was not added" />
        {created ? (
          <Notice kind="success">
            Merchant {created.name} added. <Link to={`/operator/merchants/${created.id}`}>Add its projects and first admin</Link>
          </Notice>
        ) : null}
      </Section>
    </Page>
  );
}
