import { useEffect, useId, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Dialog, Heading, Modal, ModalOverlay } from 'react-aria-components';
import { ApiError } from '../api.ts';
import { humanize } from '../format.ts';

/**
 * Building blocks every screen shares. Dialogs come from React Aria
 * Components (focus trapped inside, Escape closes, focus returns to the
 * button that opened them); the rest is plain semantic HTML, which screen
 * readers and keyboards already handle. Buttons are native <button>s:
 * React Aria's Button injects a <style> element (touch-action) that the
 * strict CSP (style-src 'self') refuses; styles.css carries that rule.
 */

/** A screen: sets the document title and moves focus to its heading, so a screen reader announces the new page. */
export function Page({ title, description, actions, children }: { title: string; description?: ReactNode; actions?: ReactNode; children: ReactNode }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Gatehouse Dashboard`;
    // Focus the heading only after an in-app navigation, not on the first load of the page.
    if (document.body.dataset.navigated === 'yes') heading.current?.focus({ preventScroll: false });
    document.body.dataset.navigated = 'yes';
  }, [title]);
  return (
    <>
      <div className="page-head">
        <div>
          <h1 ref={heading} tabIndex={-1}>
            {title}
          </h1>
          {description ? <p className="lead">{description}</p> : null}
        </div>
        {actions ? <div className="page-actions">{actions}</div> : null}
      </div>
      {children}
    </>
  );
}

export function Section({ title, children, actions, id }: { title: string; children: ReactNode; actions?: ReactNode; id?: string }) {
  const headingId = useId();
  return (
    <section className="card" aria-labelledby={headingId} id={id}>
      <div className="card-head">
        <h2 id={headingId}>{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

export function Notice({ kind, children }: { kind: 'error' | 'success' | 'info' | 'warning'; children: ReactNode }) {
  // Errors interrupt (alert); confirmations wait their turn (status).
  return (
    <div className={`notice notice-${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

export function errorText(error: unknown): { message: string; code?: string; requestId?: string } {
  if (error instanceof ApiError) return { message: error.message, code: error.code, requestId: error.requestId };
  if (error instanceof Error) return { message: error.message };
  return { message: String(error) };
}

export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const { message, code, requestId } = errorText(error);
  return (
    <Notice kind="error">
      <strong>{title ?? 'Something went wrong'}:</strong> {message}
      {code && code !== 'network' ? <span className="muted"> (code {code}{requestId ? `, request ${requestId}` : ''})</span> : null}
    </Notice>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      {label}
    </p>
  );
}

/** Where a load stands while its data is not shown yet: its failure, or "Loading…" for the first answer (a reload keeps the old data on screen instead). */
export function LoadStatus({ load, errorTitle }: { load: { data: unknown; error: unknown; loading: boolean }; errorTitle: string }) {
  return (
    <>
      <ErrorNotice error={load.error} title={errorTitle} />
      {!load.data && load.loading ? <Loading /> : null}
    </>
  );
}

const statusTone: Record<string, string> = {
  success: 'good',
  delivered: 'good',
  ok: 'good',
  accepted: 'good',
  done: 'good',
  ready: 'good',
  approved: 'good',
  paid: 'good',
  active: 'info',
  refunded: 'neutral',
  'partially refunded': 'neutral',
  canceled: 'neutral',
  cancelled: 'neutral',
  validated: 'info',
  processing: 'info',
  running: 'info',
  pending: 'info',
  'awaiting redirect result': 'info',
  'awaiting capture': 'warn',
  expiring: 'warn',
  requested: 'info',
  link_sent: 'info',
  rights_granted: 'info',
  set_up: 'info',
  decline: 'bad',
  error: 'bad',
  expired: 'bad',
  failed: 'bad',
  rejected: 'bad',
  missing: 'bad',
  revoked: 'bad',
  disabled: 'bad',
  locked: 'bad',
};

export function StatusBadge({ status }: { status: string }) {
  return <span className={`badge badge-${statusTone[status] ?? 'neutral'}`}>{humanize(status)}</span>;
}

export function ModeBadge({ mode }: { mode: string }) {
  return <span className={`badge ${mode === 'production' ? 'badge-live' : 'badge-test'}`}>{mode === 'production' ? 'Production' : 'Test'}</span>;
}

/**
 * A table in a box that scrolls sideways on its own instead of widening the
 * page. With `cards` (the default) each row becomes a card on a phone: the
 * cells get their column's name (data-label, shown by styles.css) and
 * explicit table roles, because browsers drop a table's semantics once CSS
 * changes its display.
 */
export function TableWrap({ label, children, cards = true }: { label: string; children: ReactNode; cards?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const table = box.current?.querySelector('table');
    if (!cards || !table) return;
    table.setAttribute('role', 'table');
    for (const group of Array.from(table.querySelectorAll(':scope > thead, :scope > tbody'))) group.setAttribute('role', 'rowgroup');
    const headers = Array.from(table.querySelectorAll(':scope > thead th')).map((header) => {
      header.setAttribute('role', 'columnheader');
      return header.textContent?.trim() ?? '';
    });
    for (const row of Array.from(table.querySelectorAll(':scope > thead > tr, :scope > tbody > tr'))) row.setAttribute('role', 'row');
    for (const row of Array.from(table.querySelectorAll(':scope > tbody > tr'))) {
      let column = 0;
      for (const cell of Array.from(row.children)) {
        const span = Number(cell.getAttribute('colspan') ?? '1');
        cell.setAttribute('role', cell.tagName === 'TH' ? 'rowheader' : 'cell');
        if (span === 1 && headers[column]) cell.setAttribute('data-label', headers[column]);
        column += span;
      }
    }
  });
  return (
    <div ref={box} className={`table-wrap${cards ? ' cards' : ''}`} role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

/** A labelled control with its hint and error; `wide` makes it span a whole row of a filter bar. */
export function Field({
  label,
  hint,
  error,
  children,
  htmlFor,
  wide = false,
}: {
  label: string;
  hint?: ReactNode;
  error?: string;
  htmlFor: string;
  children: ReactNode;
  wide?: boolean;
}) {
  return (
    <div className={`field${wide ? ' field-wide' : ''}${error ? ' field-invalid' : ''}`}>
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {hint ? (
        <p className="hint" id={`${htmlFor}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p className="field-error" id={`${htmlFor}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** aria-describedby for an input inside Field. */
export function describedBy(id: string, hint: boolean, error?: string): string | undefined {
  const ids = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

export function DefinitionList({ items }: { items: [string, ReactNode][] }) {
  return (
    <dl className="facts">
      {items.map(([term, value]) => (
        <div key={term}>
          <dt>{term}</dt>
          <dd>{value ?? '—'}</dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * A confirmation before an action that moves money or cannot be undone.
 * The action's failure is shown inside the dialog, so the person can fix
 * the input or cancel.
 */
export function ConfirmDialog({
  isOpen,
  title,
  children,
  confirmLabel,
  tone = 'primary',
  busy,
  error,
  onConfirm,
  onClose,
}: {
  isOpen: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  tone?: 'primary' | 'danger';
  busy?: boolean;
  error?: unknown;
  onConfirm(): void;
  onClose(): void;
}) {
  return (
    <ModalOverlay className="modal-overlay" isOpen={isOpen} onOpenChange={(open) => (open ? undefined : onClose())} isDismissable={!busy} isKeyboardDismissDisabled={busy}>
      <Modal className="modal">
        <Dialog className="dialog" role="alertdialog">
          <Heading slot="title" className="dialog-title">
            {title}
          </Heading>
          <div className="dialog-body">{children}</div>
          <ErrorNotice error={error} title="Not done" />
          <div className="dialog-actions">
            <button type="button" className="button button-secondary" onClick={onClose} disabled={busy}>
              Cancel
            </button>
            <button type="button" className={`button ${tone === 'danger' ? 'button-danger' : 'button-primary'}`} onClick={onConfirm} disabled={busy} autoFocus>
              {busy ? 'Working…' : confirmLabel}
            </button>
          </div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

/** Shows a secret once (a new secret key, a Data API key): it is not stored in the browser and cannot be shown again. */
export function SecretDialog({ isOpen, title, secret, children, onClose }: { isOpen: boolean; title: string; secret: string; children?: ReactNode; onClose(): void }) {
  return (
    <ModalOverlay className="modal-overlay" isOpen={isOpen} onOpenChange={(open) => (open ? undefined : onClose())} isDismissable={false}>
      <Modal className="modal">
        <Dialog className="dialog">
          <Heading slot="title" className="dialog-title">
            {title}
          </Heading>
          <div className="dialog-body">
            <Notice kind="warning">Copy it now: it is shown only once and cannot be retrieved later.</Notice>
            <label className="secret-label" htmlFor="secret-value">
              Secret
            </label>
            <div className="secret-row">
              <input id="secret-value" className="secret" readOnly value={secret} onFocus={(event) => event.currentTarget.select()} data-testid="secret-value" />
              <CopyButton text={secret} />
            </div>
            {children}
          </div>
          <div className="dialog-actions">
            <button type="button" className="button button-primary" onClick={onClose} autoFocus>
              I have stored it
            </button>
          </div>
        </Dialog>
      </Modal>
    </ModalOverlay>
  );
}

export function CopyButton({ text, label = 'Copy' }: { text: string; label?: string }) {
  const [copied, setCopied] = useState<'no' | 'yes' | 'failed'>('no');
  return (
    <>
      <button
        type="button"
        className="button button-secondary"
        onClick={async () => {
          try {
            await navigator.clipboard.writeText(text);
            setCopied('yes');
          } catch {
            setCopied('failed');
          }
        }}
      >
        {label}
      </button>
      <span className="sr-status" role="status">
        {copied === 'yes' ? 'Copied to the clipboard.' : copied === 'failed' ? 'Copying is not allowed here: select the text and copy it.' : ''}
      </span>
    </>
  );
}

export function EmptyRow({ columns, children }: { columns: number; children: ReactNode }) {
  return (
    <tr>
      <td colSpan={columns} className="empty">
        {children}
      </td>
    </tr>
  );
}
