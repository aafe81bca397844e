import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import { api } from '../api.ts';
import { ApprovalChart, VolumeChart, type ApprovalPoint, type VolumePoint } from '../components/Charts.tsx';
import { ProjectSelect, useProjectName } from '../components/ProjectSelect.tsx';
import { FilterBar, ModeField } from '../components/Fields.tsx';
import { Field, LoadStatus, Page, Section } from '../components/ui.tsx';
import { daysAgo, formatMoney, isoDay, minorToNumber } from '../format.ts';
import { useLoad } from '../hooks.ts';
import type { BalanceView, DailyStat } from '../types.ts';

/** Balances at a glance and the volume / approval-rate charts over a chosen period. */
export default function Overview() {
  const [days, setDays] = useState('30');
  const [projectId, setProjectId] = useState('');
  const [mode, setMode] = useState('');
  const [currency, setCurrency] = useState('');
  const projectName = useProjectName();

  const range = useMemo(() => {
    const to = daysAgo(-1);
    return { from: isoDay(daysAgo(Number(days) - 1)), to: isoDay(to) };
  }, [days]);
  const filters = { project_id: projectId || undefined, mode: mode || undefined };

  const stats = useLoad((signal) => api.get<{ days: DailyStat[] }>('/stats/daily', { ...filters, ...range }, { signal }), [projectId, mode, range.from, range.to]);
  const balances = useLoad((signal) => api.get<{ balances: BalanceView[] }>('/balances', filters, { signal }), [projectId, mode]);

  const currencies = useMemo(() => {
    const totals = new Map<string, number>();
    for (const row of stats.data?.days ?? []) totals.set(row.currency, (totals.get(row.currency) ?? 0) + minorToNumber(row.volume_minor, row.currency));
    return [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([code]) => code);
  }, [stats.data]);
  const shownCurrency = currencies.includes(currency) ? currency : (currencies[0] ?? 'USD');

  const { volume, approval } = useMemo(() => {
    const allDays: string[] = [];
    for (let day = new Date(`${range.from}T00:00:00Z`); isoDay(day) < range.to; day.setUTCDate(day.getUTCDate() + 1)) allDays.push(isoDay(day));
    const rows = stats.data?.days ?? [];
    const volumePoints: VolumePoint[] = allDays.map((day) => {
      const row = rows.find((candidate) => candidate.day === day && candidate.currency === shownCurrency);
      const minor = row?.volume_minor ?? '0';
      return { day, volume: minorToNumber(minor, shownCurrency), label: formatMoney(minor, shownCurrency), operations: row?.successful_operations ?? 0 };
    });
    const approvalPoints: ApprovalPoint[] = allDays.map((day) => {
      const ofDay = rows.filter((candidate) => candidate.day === day);
      const attempts = ofDay.reduce((sum, row) => sum + row.attempts, 0);
      const approved = ofDay.reduce((sum, row) => sum + row.approved, 0);
      return { day, attempts, approved, rate: attempts === 0 ? null : Math.round((approved / attempts) * 1000) / 10 };
    });
    return { volume: volumePoints, approval: approvalPoints };
  }, [stats.data, range, shownCurrency]);

  return (
    <Page title="Overview" description="Balances and how your payments are doing. Times are UTC.">
      <FilterBar label="Overview filters">
        <Field label="Period" htmlFor="overview-period">
          <select id="overview-period" value={days} onChange={(event) => setDays(event.target.value)}>
            <option value="7">Last 7 days</option>
            <option value="30">Last 30 days</option>
            <option value="90">Last 90 days</option>
            <option value="365">Last 365 days</option>
          </select>
        </Field>
        <Field label="Project" htmlFor="overview-project">
          <ProjectSelect id="overview-project" value={projectId} onChange={setProjectId} allowAll />
        </Field>
        <ModeField id="overview-mode" value={mode} onChange={setMode} />
        <Field label="Chart currency" htmlFor="overview-currency">
          <select id="overview-currency" value={shownCurrency} onChange={(event) => setCurrency(event.target.value)} disabled={currencies.length < 2}>
            {(currencies.length ? currencies : [shownCurrency]).map((code) => (
              <option key={code}>{code}</option>
            ))}
          </select>
        </Field>
      </FilterBar>

      <Section title="Balances" actions={<Link to="/balances">All balance details</Link>}>
        <LoadStatus load={balances} errorTitle="Balances could not be loaded" />
        {balances.data ? (
          balances.data.balances.length === 0 ? (
            <p className="muted">No money has moved yet.</p>
          ) : (
            <ul className="tiles">
              {balances.data.balances.map((balance) => (
                <li key={`${balance.project_id}-${balance.currency}`} className="tile">
                  <span className="tile-label">{projectName(balance.project_id)}</span>
                  <span className="tile-value">{formatMoney(balance.balance_minor, balance.currency)}</span>
                </li>
              ))}
            </ul>
          )
        ) : null}
      </Section>

      <Section title="Volume and approval rate">
        <LoadStatus load={stats} errorTitle="Charts could not be loaded" />
        {stats.data ? (
          <div className="chart-grid">
            <VolumeChart points={volume} currency={shownCurrency} />
            <ApprovalChart points={approval} />
          </div>
        ) : null}
      </Section>
    </Page>
  );
}
