import { useState } from 'react';
import { api } from '../api.ts';
import { ProjectSelect, useProjectName } from '../components/ProjectSelect.tsx';
import { FilterBar, ModeField } from '../components/Fields.tsx';
import { EmptyRow, Field, LoadStatus, Page, Section, TableWrap } from '../components/ui.tsx';
import { formatMoney, humanize } from '../format.ts';
import { useLoad } from '../hooks.ts';
import type { BalanceView } from '../types.ts';

/**
 * Balances per project and currency, from the double-entry ledger: what the
 * merchant holds, and the position of every ledger account behind it.
 */
const accountOrder = ['merchant_balance', 'customer_funds', 'payouts_out', 'chargebacks', 'fees'];

export default function Balances() {
  const [projectId, setProjectId] = useState('');
  const [mode, setMode] = useState('');
  const projectName = useProjectName();
  const balances = useLoad(
    (signal) => api.get<{ balances: BalanceView[] }>('/balances', { project_id: projectId || undefined, mode: mode || undefined }, { signal }),
    [projectId, mode],
  );
  const accounts = [...new Set([...accountOrder, ...(balances.data?.balances.flatMap((balance) => Object.keys(balance.accounts)) ?? [])])].filter(
    (account) => account !== 'merchant_balance' && balances.data?.balances.some((balance) => balance.accounts[account] !== undefined),
  );

  return (
    <Page title="Balances" description="What you hold per project and currency, from the ledger. Positions are credits minus debits.">
      <FilterBar label="Balance filters">
        <Field label="Project" htmlFor="balances-project">
          <ProjectSelect id="balances-project" value={projectId} onChange={setProjectId} allowAll />
        </Field>
        <ModeField id="balances-mode" value={mode} onChange={setMode} />
      </FilterBar>
      <Section title="Balances per currency">
        <LoadStatus load={balances} errorTitle="Balances could not be loaded" />
        {balances.data ? (
          <TableWrap label="Balances per currency">
            <table>
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  <th scope="col">Currency</th>
                  <th scope="col" className="number">
                    Balance
                  </th>
                  {accounts.map((account) => (
                    <th scope="col" className="number" key={account}>
                      {humanize(account)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {balances.data.balances.length === 0 ? <EmptyRow columns={3 + accounts.length}>No money has moved yet.</EmptyRow> : null}
                {balances.data.balances.map((balance) => (
                  <tr key={`${balance.project_id}-${balance.currency}`}>
                    <th scope="row">{projectName(balance.project_id)}</th>
                    <td>{balance.currency}</td>
                    <td className="number strong">{formatMoney(balance.balance_minor, balance.currency)}</td>
                    {accounts.map((account) => (
                      <td className="number" key={account}>
                        {balance.accounts[account] === undefined ? '—' : formatMoney(balance.accounts[account], balance.currency)}
                      </td>
                    ))}
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
