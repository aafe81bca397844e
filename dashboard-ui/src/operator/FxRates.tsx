import { useState, type FormEvent } from 'react';
import { api, segment } from '../api.ts';
import { CurrencySelect, InputField } from '../components/Fields.tsx';
import { EmptyRow, ErrorNotice, Field, LoadStatus, Notice, Page, Section, TableWrap } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import type { FxRateView } from '../types.ts';

/**
 * The FX table the platform converts with (sum_converted, the USD purchase
 * maximum). Nodes re-read it within 30 seconds of a change.
 */
/** "1.530000000000" -> "1.53": the table keeps 12 decimals, people read the significant ones. */
function trimRate(rate: string): string {
  return rate.includes('.') ? rate.replace(/0+$/, '').replace(/\.$/, '') : rate;
}

export default function FxRates() {
  const rates = useLoad((signal) => api.get<{ rates: FxRateView[] }>('/operator/fx-rates', undefined, { signal }), []);
  const [base, setBase] = useState('USD');
  const [quote, setQuote] = useState('EUR');
  const [rate, setRate] = useState('');
  const [rateError, setRateError] = useState<string>();
  const saving = useAction();
  const [saved, setSaved] = useState<string>();

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!/^(0|[1-9][0-9]{0,11})(\.[0-9]{1,12})?$/.test(rate.trim()) || !/[1-9]/.test(rate)) {
      return setRateError('A decimal above zero with a dot, like 0.9215 (up to 12 decimals).');
    }
    if (base === quote) return setRateError('Choose two different currencies.');
    setRateError(undefined);
    setSaved(undefined);
    await saving.run(async () => {
      await api.put(`/operator/fx-rates/${segment(base)}/${segment(quote)}`, { rate: rate.trim() });
      setSaved(`1 ${base} = ${rate.trim()} ${quote} saved. Every node uses it within 30 seconds.`);
      setRate('');
      await rates.reload();
    });
  }

  return (
    <Page title="FX rates" description="Rates for converting amounts between currencies: 1 base = rate × quote.">
      <Section title="Rates">
        <LoadStatus load={rates} errorTitle="Rates could not be loaded" />
        {rates.data ? (
          <TableWrap label="FX rates" cards={false}>
            <table className="compact">
              <thead>
                <tr>
                  <th scope="col">Pair</th>
                  <th scope="col" className="number">
                    Rate
                  </th>
                  <th scope="col">Updated</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rates.data.rates.length === 0 ? <EmptyRow columns={4}>No rates yet.</EmptyRow> : null}
                {rates.data.rates.map((entry) => (
                  <tr key={`${entry.base}/${entry.quote}`}>
                    <th scope="row" className="nowrap">
                      {entry.base} → {entry.quote}
                    </th>
                    <td className="number mono">{trimRate(entry.rate)}</td>
                    <td className="nowrap">{formatDateTime(entry.updated_at)}</td>
                    <td>
                      <button
                        type="button"
                        className="button button-secondary button-small"
                        onClick={() => {
                          setBase(entry.base);
                          setQuote(entry.quote);
                          setRate(trimRate(entry.rate));
                          document.getElementById('fx-rate')?.focus();
                        }}
                      >
                        Edit<span className="sr-only"> {entry.base} to {entry.quote}</span>
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
        ) : null}
      </Section>
      <Section title="Set a rate">
        <form onSubmit={save} className="form-grid" aria-label="Set a rate">
          <Field label="Base currency" htmlFor="fx-base">
            <CurrencySelect id="fx-base" value={base} onChange={setBase} />
          </Field>
          <Field label="Quote currency" htmlFor="fx-quote">
            <CurrencySelect id="fx-quote" value={quote} onChange={setQuote} />
          </Field>
          <InputField
            id="fx-rate"
            label="Rate"
            hint={`1 ${base} = this many ${quote}.`}
            error={rateError}
            inputMode="decimal"
            value={rate}
            onChange={(event) => setRate(event.target.value)}
            required
          />
          <div className="form-actions">
            <button type="submit" className="button button-primary" disabled={saving.busy}>
              Save rate
            </button>
          </div>
        </form>
        <ErrorNotice error={saving.error} title="The rate was not saved" />
        {saved ? <Notice kind="success">{saved}</Notice> : null}
      </Section>
    </Page>
  );
}
