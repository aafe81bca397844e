import { aocOperationsPerYearAbove, daysBetween, type PciDocumentKind } from '../accounts/compliance.ts';

/**
 * When a merchant is reminded of its PCI DSS documents. Pure rules: no SQL,
 * no clock of its own (the sweep passes today's date, UTC, from the platform
 * clock).
 *
 * For each document the merchant is REQUIRED to keep (an ASV scan, and an AOC
 * or an SAQ by volume: src/accounts/compliance.ts), only the latest one on
 * file counts (an older one that a renewal replaced is no longer news):
 * - 30, 14, 7 and 1 days before its `valid_until` (its last valid day), a
 *   reminder that it expires; a sweep that comes late (a node was down, or
 *   the document was recorded with 10 days left) makes only the most urgent
 *   reminder that fell due, never a burst of stale ones;
 * - the day after `valid_until`, a notice that it has expired;
 * - with no document of that kind at all, a notice that it is missing, once
 *   per calendar quarter while it stays missing (the ASV scan is quarterly).
 * Each reminder has a dedupe key, so it is made once per document and offset.
 */
export const reminderOffsetsDays = [30, 14, 7, 1] as const;

export const notificationKinds = ['pci_document_expiring', 'pci_document_expired', 'pci_document_missing'] as const;
export type NotificationKind = (typeof notificationKinds)[number];

/** What the sweep knows of one required kind of document: the latest on file, if any. */
export interface RequiredDocument {
  kind: PciDocumentKind;
  latest: { id: bigint; validUntil: string } | null;
}

export interface PlannedNotification {
  kind: NotificationKind;
  documentKind: PciDocumentKind;
  pciDocumentId: bigint | null;
  offsetDays: number | null;
  validUntil: string | null;
  dedupeKey: string;
  title: string;
  body: string;
}

/** The reminder that is due today for one required document, or undefined when none is. */
export function dueReminder(required: RequiredDocument, today: string): PlannedNotification | undefined {
  const { kind, latest } = required;
  if (!latest) return missingNotice(kind, today);
  const daysLeft = daysBetween(today, latest.validUntil);
  if (daysLeft < 0) return expiredNotice(kind, latest);
  const offsetDays = reminderOffsetFor(daysLeft);
  if (offsetDays === undefined) return undefined;
  return {
    kind: 'pci_document_expiring',
    documentKind: kind,
    pciDocumentId: latest.id,
    offsetDays,
    validUntil: latest.validUntil,
    dedupeKey: `pci:${latest.id}:${offsetDays}`,
    title: `${documentNames[kind]} ${daysLeft === 0 ? 'expires today' : `expires in ${daysLeft} ${daysLeft === 1 ? 'day' : 'days'}`}`,
    body:
      `Your ${documentNames[kind]} is valid until ${latest.validUntil}. Send the new one to your Gatehouse operator before then: ` +
      `PCI DSS requires ${requirements[kind]}.`,
  };
}

/** The smallest offset that `daysLeft` has reached (daysLeft 10 → 14), or undefined beyond the first one. */
export function reminderOffsetFor(daysLeft: number): number | undefined {
  if (daysLeft < 0) return undefined;
  return [...reminderOffsetsDays].sort((a, b) => a - b).find((offset) => daysLeft <= offset);
}

/** "2026Q3": the calendar quarter (UTC) of a YYYY-MM-DD date. */
export function calendarQuarterOf(date: string): string {
  const month = Number(date.slice(5, 7));
  return `${date.slice(0, 4)}Q${Math.floor((month - 1) / 3) + 1}`;
}

function expiredNotice(kind: PciDocumentKind, latest: { id: bigint; validUntil: string }): PlannedNotification {
  return {
    kind: 'pci_document_expired',
    documentKind: kind,
    pciDocumentId: latest.id,
    offsetDays: null,
    validUntil: latest.validUntil,
    dedupeKey: `pci:${latest.id}:expired`,
    title: `${documentNames[kind]} has expired`,
    body:
      `Your ${documentNames[kind]} was valid until ${latest.validUntil}. Send a new one to your Gatehouse operator now: ` +
      `PCI DSS requires ${requirements[kind]}.`,
  };
}

function missingNotice(kind: PciDocumentKind, today: string): PlannedNotification {
  return {
    kind: 'pci_document_missing',
    documentKind: kind,
    pciDocumentId: null,
    offsetDays: null,
    validUntil: null,
    dedupeKey: `pci:missing:${kind}:${calendarQuarterOf(today)}`,
    title: `${documentNames[kind]} is missing`,
    body: `Gatehouse has no ${documentNames[kind]} on file for your account. PCI DSS requires ${requirements[kind]}; send it to your Gatehouse operator.`,
  };
}

export const documentNames: Record<PciDocumentKind, string> = {
  asv_scan: 'ASV scan report',
  aoc: 'Attestation of Compliance (AOC)',
  saq: 'Self-Assessment Questionnaire (SAQ)',
};

const requirements: Record<PciDocumentKind, string> = {
  asv_scan: 'a passing ASV scan report every quarter',
  aoc: `an Attestation of Compliance every year from merchants with more than ${aocOperationsPerYearAbove.toLocaleString('en')} operations a year`,
  saq: 'a Self-Assessment Questionnaire every year',
};
