import { useEffect, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { feeMinor, feeOperationTypes } from '../../../src/ledger/rules.ts';
import { api, segment } from '../api.ts';
import { ErrorNotice, Field, Loading, ModeBadge, Notice, Page, Section, TableWrap } from '../components/ui.tsx';
import { currencyCodes, decimalToMinor, exponentOf, formatMoney, humanize, minorToDecimal } from '../format.ts';
import { useLoad } from '../hooks.ts';
import type { FeeRuleView, ProjectView } from '../types.ts';

/**
 * A project's fees, per operation type: a percentage of the amount (kept in
 * basis points, rounded down) plus a fixed amount. The ledger charges the
 * fixed part in each operation's own currency, as minor units; here it is
 * typed and shown in the major units of one currency (the project's
 * settlement currency unless another is chosen), with that currency's
 * exponent, and an example fee computed by the ledger's own rule.
 */
type FeeOperationType = (typeof feeOperationTypes)[number];
type Draft = { percent: string; fixed: string };
type Drafts = Record<FeeOperationType, Draft>;

/** Fixed parts above this many minor units are refused by the API. */
const fixedMinorMax = 1_000_000_000n;

const operationHelp: Record<FeeOperationType, string> = {
  sale: 'One-step purchases',
  capture: 'Captured holds',
  recurring: 'COF debits',
  refund: 'Refunds',
  payout: 'Payouts',
  chargeback: 'Chargebacks',
};

/** 290 basis points -> "2.90". */
function percentText(basisPoints: number): string {
  return `${Math.floor(basisPoints / 100)}.${String(basisPoints % 100).padStart(2, '0')}`;
}

/** "2.9" -> 290 basis points; undefined unless a percentage from 0 to 100 with at most 2 decimals. */
function basisPointsOf(text: string): number | undefined {
  const match = /^(\d{1,3})(?:\.(\d{1,2}))?$/.exec(text.trim() || '0');
  if (!match) return undefined;
  const basisPoints = Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0'));
  return basisPoints <= 10_000 ? basisPoints : undefined;
}

/** "0.30" in `currency`'s major units -> 30n minor units; blank and zero are 0n; undefined when not an amount of that currency. */
function fixedMinorOf(text: string, currency: string): bigint | undefined {
  const cleaned = text.trim();
  if (cleaned === '' || /^0+(\.0+)?$/.test(cleaned)) return 0n;
  const parsed = decimalToMinor(cleaned, currency);
  return 'minor' in parsed && parsed.minor <= fixedMinorMax ? parsed.minor : undefined;
}

function draftsFrom(fees: readonly FeeRuleView[], currency: string): Drafts {
  const drafts = {} as Drafts;
  for (const type of feeOperationTypes) {
    const fee = fees.find((candidate) => candidate.operation_type === type);
    drafts[type] = fee ? { percent: percentText(fee.percent_basis_points), fixed: minorToDecimal(fee.fixed_minor, currency) } : { percent: '', fixed: '' };
  }
  return drafts;
}

type Checked = { rule?: { percent_basis_points: number; fixed_minor: bigint }; percentError?: string; fixedError?: string };

/** A row's rule (none when both fields are blank) or what is wrong with it. */
function checkDraft(draft: Draft, currency: string): Checked {
  if (draft.percent.trim() === '' && draft.fixed.trim() === '') return {};
  const basisPoints = basisPointsOf(draft.percent);
  const fixedMinor = fixedMinorOf(draft.fixed, currency);
  const percentError = basisPoints === undefined ? 'A percentage from 0 to 100, at most 2 decimals (2.90).' : undefined;
  const fixedError =
    fixedMinor === undefined ? (exponentOf(currency) === 0 ? `A whole number of ${currency}.` : `An amount like 0.30 (at most ${exponentOf(currency)} decimals).`) : undefined;
  if (percentError || fixedError) return { percentError, fixedError };
  return { rule: { percent_basis_points: basisPoints!, fixed_minor: fixedMinor! } };
}

export default function Fees() {
  const { projectId = '' } = useParams();
  const projects = useLoad((signal) => api.get<{ projects: ProjectView[] }>('/operator/projects', undefined, { signal }), []);
  const fees = useLoad((signal) => api.get<{ fees: FeeRuleView[] }>(`/operator/projects/${segment(projectId)}/fees`, undefined, { signal }), [projectId]);
  const project = projects.data?.projects.find((candidate) => String(candidate.id) === projectId);
  const [currency, setCurrency] = useState<string>();
  const [drafts, setDrafts] = useState<Drafts>();
  const [showErrors, setShowErrors] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  const [saved, setSaved] = useState(false);

  // The form starts from what is stored, once both the rules and the project (its currency) are known, and again after each save.
  useEffect(() => {
    if (!fees.data || !projects.data) return;
    const shown = currency ?? project?.settlement_currency ?? 'USD';
    setCurrency(shown);
    setDrafts(draftsFrom(fees.data.fees, shown));
  }, [fees.data, projects.data]);

  /** Keeps what was typed worth the same number of minor units when the display currency changes. */
  function changeCurrency(next: string) {
    if (!drafts || !currency) return;
    const converted = {} as Drafts;
    for (const type of feeOperationTypes) {
      const fixedMinor = drafts[type].fixed.trim() === '' ? undefined : fixedMinorOf(drafts[type].fixed, currency);
      converted[type] = { ...drafts[type], fixed: fixedMinor === undefined ? drafts[type].fixed : minorToDecimal(fixedMinor, next) };
    }
    setDrafts(converted);
    setCurrency(next);
  }

  function edit(type: FeeOperationType, field: keyof Draft, value: string) {
    setSaved(false);
    setDrafts((current) => (current ? { ...current, [type]: { ...current[type], [field]: value } } : current));
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!drafts || !currency) return;
    const checked = feeOperationTypes.map((type) => ({ type, ...checkDraft(drafts[type], currency) }));
    if (checked.some((row) => row.percentError || row.fixedError)) return setShowErrors(true);
    setShowErrors(false);
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      const rules = checked.flatMap((row) => (row.rule ? [{ operation_type: row.type, percent_basis_points: row.rule.percent_basis_points, fixed_minor: Number(row.rule.fixed_minor) }] : []));
      await api.put(`/operator/projects/${segment(projectId)}/fees`, { fees: rules });
      setSaved(true);
      await fees.reload();
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  }

  const exampleMinor = currency ? 100n * 10n ** BigInt(exponentOf(currency)) : 0n;
  return (
    <Page
      title={`Fees${project ? `: ${project.name}` : ` of project #${projectId}`}`}
      description={project ? <><ModeBadge mode={project.mode} /> Project #{project.id}{project.merchant_id ? ` · merchant #${project.merchant_id}` : ''}</> : undefined}
      actions={<Link to="/operator/projects">All projects</Link>}
    >
      <ErrorNotice error={fees.error ?? projects.error} title="Fees could not be loaded" />
      {!drafts && (fees.loading || projects.loading) ? <Loading /> : null}
      {drafts && currency ? (
        <Section title="Fee per operation">
          <p>
            Each successful operation of a type pays its percentage of the amount (rounded down) plus the fixed part, booked from the merchant balance to fees.
            The fixed part is charged in the operation’s own currency, as that many minor units: it is shown here in {currency}. Leave both fields empty for no
            fee. Changes apply to operations that complete after saving.
          </p>
          <form onSubmit={save} className="stack" aria-label="Fees">
            <div className="form-grid">
              <Field label="Show fixed parts in" htmlFor="fees-currency" hint={`${currency} has ${exponentOf(currency)} decimal${exponentOf(currency) === 1 ? '' : 's'}.`}>
                <select id="fees-currency" value={currency} onChange={(event) => changeCurrency(event.target.value)} aria-describedby="fees-currency-hint">
                  {currencyCodes.map((code) => (
                    <option key={code}>{code}</option>
                  ))}
                </select>
              </Field>
            </div>
            <TableWrap label="Fee rules">
              <table data-testid="fee-rules">
                <thead>
                  <tr>
                    <th scope="col">Operation</th>
                    <th scope="col">Percent of amount (%)</th>
                    <th scope="col">Fixed ({currency})</th>
                    <th scope="col" className="number">
                      Fee on {formatMoney(exampleMinor, currency)}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {feeOperationTypes.map((type) => {
                    const checked = checkDraft(drafts[type], currency);
                    const percentError = showErrors ? checked.percentError : undefined;
                    const fixedError = showErrors ? checked.fixedError : undefined;
                    const example = checked.rule ? formatMoney(feeMinor(exampleMinor, { percentBasisPoints: checked.rule.percent_basis_points, fixedMinor: checked.rule.fixed_minor }), currency) : '—';
                    return (
                      <tr key={type}>
                        <th scope="row">
                          {humanize(type)}
                          <br />
                          <span className="hint">{operationHelp[type]}</span>
                        </th>
                        <td>
                          <input
                            id={`fee-${type}-percent`}
                            aria-label={`${humanize(type)}: percent of amount`}
                            inputMode="decimal"
                            placeholder="0.00"
                            size={7}
                            value={drafts[type].percent}
                            onChange={(event) => edit(type, 'percent', event.target.value)}
                            aria-invalid={!!percentError}
                            aria-describedby={percentError ? `fee-${type}-percent-error` : undefined}
                          />
                          {percentError ? (
                            <p className="field-error" id={`fee-${type}-percent-error`}>
                              {percentError}
                            </p>
                          ) : null}
                        </td>
                        <td>
                          <input
                            id={`fee-${type}-fixed`}
                            aria-label={`${humanize(type)}: fixed part in ${currency}`}
                            inputMode="decimal"
                            placeholder={minorToDecimal(0, currency)}
                            size={9}
                            value={drafts[type].fixed}
                            onChange={(event) => edit(type, 'fixed', event.target.value)}
                            aria-invalid={!!fixedError}
                            aria-describedby={fixedError ? `fee-${type}-fixed-error` : undefined}
                          />
                          {fixedError ? (
                            <p className="field-error" id={`fee-${type}-fixed-error`}>
                              {fixedError}
                            </p>
                          ) : null}
                        </td>
                        <td className="number" data-testid={`fee-${type}-example`}>
                          {example}
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </TableWrap>
            <div>
              <button type="submit" className="button button-primary" disabled={busy}>
                {busy ? 'Saving…' : 'Save fees'}
              </button>
            </div>
          </form>
          {showErrors ? <Notice kind="error">Some fields are not valid: see the marked rows.</Notice> : null}
          <ErrorNotice error={error} title="The fees were not saved" />
          {saved ? <Notice kind="success">Fees saved. They apply to operations that complete from now on.</Notice> : null}
        </Section>
      ) : null}
    </Page>
  );
}
