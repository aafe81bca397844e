/**
 * PCI DSS documents a merchant owes (integration FAQ): an ASV scan report
 * from every merchant, quarterly; an Attestation of Compliance (AOC) from
 * merchants processing over 6 million operations a year, a Self-Assessment
 * Questionnaire (SAQ) from the others. Pure rules: no SQL.
 */
export const pciDocumentKinds = ['asv_scan', 'aoc', 'saq'] as const;
export type PciDocumentKind = (typeof pciDocumentKinds)[number];

/** Merchants processing more than this many operations a year (Level 1) owe an AOC; the rest an SAQ. */
export const aocOperationsPerYearAbove = 6_000_000;
/** A document whose validity ends within this many days is reported as expiring. */
export const expiringWithinDays = 30;

export type PciStatus = 'ok' | 'expiring' | 'expired' | 'missing';

export function requiredPciDocuments(operationsPerYear: number): PciDocumentKind[] {
  return ['asv_scan', operationsPerYear > aocOperationsPerYearAbove ? 'aoc' : 'saq'];
}

/** Default validity when the operator gives none: an ASV scan is good for a quarter, AOC and SAQ for a year. */
export function defaultValidUntil(kind: PciDocumentKind, issuedOn: string): string {
  const date = new Date(`${issuedOn}T00:00:00Z`);
  const months = kind === 'asv_scan' ? 3 : 12;
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date.getUTCDate(), lastDay));
  target.setUTCDate(target.getUTCDate() - 1);
  return target.toISOString().slice(0, 10);
}

/** Whole days from one YYYY-MM-DD date to another (negative when `toDate` is earlier). */
export function daysBetween(fromDate: string, toDate: string): number {
  return Math.round((Date.parse(`${toDate}T00:00:00Z`) - Date.parse(`${fromDate}T00:00:00Z`)) / 86_400_000);
}

/** The status of one kind of document given the `valid_until` dates on file (YYYY-MM-DD) and today's date. */
export function documentStatus(validUntilDates: readonly string[], today: string): PciStatus {
  if (validUntilDates.length === 0) return 'missing';
  const latest = [...validUntilDates].sort().at(-1)!;
  const daysLeft = daysBetween(today, latest);
  if (daysLeft < 0) return 'expired';
  if (daysLeft <= expiringWithinDays) return 'expiring';
  return 'ok';
}

const severity: Record<PciStatus, number> = { ok: 0, expiring: 1, expired: 2, missing: 3 };

export function worstStatus(statuses: readonly PciStatus[]): PciStatus {
  return statuses.reduce<PciStatus>((worst, status) => (severity[status] > severity[worst] ? status : worst), 'ok');
}

export interface PciSummary {
  operationsLastYear: number;
  required: { kind: PciDocumentKind; status: PciStatus; validUntil: string | null }[];
  status: PciStatus;
}

export function pciSummary(operationsLastYear: number, documents: readonly { kind: PciDocumentKind; validUntil: string }[], today: string): PciSummary {
  const required = requiredPciDocuments(operationsLastYear).map((kind) => {
    const dates = documents.filter((document) => document.kind === kind).map((document) => document.validUntil);
    return { kind, status: documentStatus(dates, today), validUntil: dates.length ? [...dates].sort().at(-1)! : null };
  });
  return { operationsLastYear, required, status: worstStatus(required.map((entry) => entry.status)) };
}
