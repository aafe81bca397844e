import type { FormEvent, InputHTMLAttributes, ReactNode } from 'react';
import { currencyCodes } from '../format.ts';
import { describedBy, Field } from './ui.tsx';

/**
 * Form and filter controls that several screens share, each with its label
 * tied to it (Field) and its hint and error tied with aria-describedby.
 * Inputs take <input>'s own props (onChange gets the event); selects that
 * bring their own options take `onChange(value)`, like ProjectSelect.
 */

/**
 * An <input> in a Field: the label, hint and error are tied to it, and
 * `aria-invalid` follows `error`.
 *
 * @example <InputField id="payout-customer" label="Customer ID" hint="Your ID for the receiver." error={errors.customerId} value={form.customerId} onChange={set('customerId')} required />
 */
type InputFieldProps = { id: string; label: string; hint?: ReactNode; error?: string; wide?: boolean } & Omit<InputHTMLAttributes<HTMLInputElement>, 'id'>;

export function InputField({ id, label, hint, error, wide, ...input }: InputFieldProps) {
  return (
    <Field label={label} htmlFor={id} hint={hint} error={error} wide={wide}>
      <input id={id} {...input} aria-invalid={!!error} aria-describedby={describedBy(id, !!hint, error)} />
    </Field>
  );
}

/** An amount in major units ("10.50"): the screen converts it with decimalToMinor (exact, never through floats). */
export function AmountField({ label = 'Amount', ...props }: Omit<InputFieldProps, 'label'> & { label?: string }) {
  return <InputField label={label} inputMode="decimal" autoComplete="off" {...props} />;
}

export function CurrencySelect({ id, value, onChange }: { id: string; value: string; onChange(currency: string): void }) {
  return (
    <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
      {currencyCodes.map((code) => (
        <option key={code}>{code}</option>
      ))}
    </select>
  );
}

/**
 * A bar of filters above a list. Without `onSubmit` every filter applies as
 * it changes, and Enter in the bar does nothing; `search` makes the bar a
 * search landmark.
 */
export function FilterBar({ label, onSubmit, search = false, children }: { label: string; onSubmit?(event: FormEvent): void; search?: boolean; children: ReactNode }) {
  return (
    <form className="filters" aria-label={label} role={search ? 'search' : undefined} onSubmit={onSubmit ?? ((event) => event.preventDefault())}>
      {children}
    </form>
  );
}

/** The Mode filter: test projects, production projects, or both (""). */
export function ModeField({ id, value, onChange }: { id: string; value: string; onChange(mode: string): void }) {
  return (
    <Field label="Mode" htmlFor={id}>
      <select id={id} value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">Test and production</option>
        <option value="test">Test</option>
        <option value="production">Production</option>
      </select>
    </Field>
  );
}

/**
 * A period as two days (YYYY-MM-DD, UTC), the last one included: the screen
 * sends dayAfter(to) to the API, whose `to` is exclusive. The second day
 * cannot be picked before the first.
 */
export function DateRangeFields({
  idPrefix,
  from,
  to,
  onFromChange,
  onToChange,
  required = false,
}: {
  idPrefix: string;
  from: string;
  to: string;
  onFromChange(day: string): void;
  onToChange(day: string): void;
  required?: boolean;
}) {
  return (
    <>
      <Field label="From" htmlFor={`${idPrefix}-from`}>
        <input id={`${idPrefix}-from`} type="date" value={from} onChange={(event) => onFromChange(event.target.value)} required={required} />
      </Field>
      <Field label="To (inclusive)" htmlFor={`${idPrefix}-to`}>
        <input id={`${idPrefix}-to`} type="date" value={to} min={from || undefined} onChange={(event) => onToChange(event.target.value)} required={required} />
      </Field>
    </>
  );
}
