import { api } from '../api.ts';
import { formatDate } from '../format.ts';
import { useLoad } from '../hooks.ts';
import type { PciSummaryView } from '../types.ts';
import { ErrorNotice, Loading, StatusBadge } from './ui.tsx';

/** The signed-in merchant's PCI DSS status and required documents (Project settings and Notifications show it). */
export function PciStatus() {
  const compliance = useLoad((signal) => api.get<PciSummaryView>('/compliance', undefined, { signal }), []);
  if (compliance.error) return <ErrorNotice error={compliance.error} title="Compliance status could not be loaded" />;
  if (!compliance.data) return <Loading />;
  return (
    <>
      <p>
        Status: <StatusBadge status={compliance.data.status} /> · {compliance.data.operations_last_year.toLocaleString('en')} production operations in the last 365
        days.
      </p>
      <ul className="plain">
        {compliance.data.required.map((entry) => (
          <li key={entry.kind}>
            {pciName(entry.kind)}: <StatusBadge status={entry.status} /> {entry.valid_until ? `valid until ${formatDate(entry.valid_until)}` : ''}
          </li>
        ))}
      </ul>
      <p className="muted">Your Gatehouse operator records the documents; send them new ones before they expire.</p>
    </>
  );
}

export function pciName(kind: string): string {
  return { asv_scan: 'ASV scan (quarterly)', aoc: 'Attestation of Compliance (AOC)', saq: 'Self-Assessment Questionnaire (SAQ)' }[kind] ?? kind;
}
