import { useEffect, useState, type FormEvent } from 'react';
import { api, segment } from '../api.ts';
import { FilterBar, InputField } from '../components/Fields.tsx';
import { PciStatus } from '../components/PciStatus.tsx';
import { ProjectSelect, useChosenProject } from '../components/ProjectSelect.tsx';
import { ConfirmDialog, DefinitionList, ErrorNotice, Field, LoadStatus, ModeBadge, Notice, Page, SecretDialog, Section, StatusBadge, TableWrap } from '../components/ui.tsx';
import { formatDateTime, formatDuration, humanize } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import { useIsAdmin, useSession } from '../session.tsx';
import type { ProjectView } from '../types.ts';

/**
 * Project settings: where callbacks go, what happens to a PayPal hold that
 * nobody captured, and the secret key (rotation shows the new key once and
 * keeps the old one working for an overlap, so merchant servers can switch
 * without failed requests). Also the merchant's PCI DSS status.
 */
interface ProjectDetail {
  project: ProjectView;
  fees: { operation_type: string; percent_basis_points: number; fixed_minor: string }[];
  paypal_onboarding: { state: string; paypal_merchant_id: string | null; permissions: string[]; updated_at: string } | null;
}

const overlapChoices = [
  { seconds: 0, label: 'No overlap: the old key stops now' },
  { seconds: 3_600, label: '1 hour' },
  { seconds: 86_400, label: '1 day (recommended)' },
  { seconds: 3 * 86_400, label: '3 days' },
  { seconds: 7 * 86_400, label: '7 days' },
];

export default function Settings() {
  const isAdmin = useIsAdmin();
  const { reloadProjects } = useSession();
  const [project, chooseProject] = useChosenProject();
  const detail = useLoad(
    (signal) => (project ? api.get<ProjectDetail>(`/projects/${segment(project.id)}`, undefined, { signal }) : Promise.resolve(undefined)),
    [project?.id],
  );
  const current = detail.data?.project;

  const refresh = async () => {
    await Promise.all([detail.reload(), reloadProjects()]);
  };

  return (
    <Page title="Project settings" description="Callbacks, hold policy and the secret key that signs requests and callbacks.">
      <FilterBar label="Choose a project">
        <Field label="Project" htmlFor="settings-project" wide>
          <ProjectSelect id="settings-project" value={project ? String(project.id) : ''} onChange={chooseProject} />
        </Field>
      </FilterBar>
      {!isAdmin ? <Notice kind="info">Your role (viewer) can see these settings; an admin can change them.</Notice> : null}
      <LoadStatus load={detail} errorTitle="The project could not be loaded" />
      {current ? (
        <>
          <Section title="Project">
            <DefinitionList
              items={[
                ['Project ID', <span className="mono">{current.id}</span>],
                ['Name', current.name],
                ['Mode', <ModeBadge mode={current.mode} />],
                ['PayPal', current.paypal_enabled ? 'Enabled' : 'Not enabled'],
                ['PayPal onboarding', current.paypal_onboarding_state ? <StatusBadge status={current.paypal_onboarding_state} /> : 'Not started'],
                ['Test clock', current.mode === 'test' ? (current.test_clock ? formatDateTime(current.test_clock) : 'Real time') : null],
                ['Created', formatDateTime(current.created_at)],
              ]}
            />
            {detail.data?.fees.length ? (
              <TableWrap label="Fees">
                <table className="compact">
                  <caption>Fees</caption>
                  <thead>
                    <tr>
                      <th scope="col">Operation</th>
                      <th scope="col" className="number">
                        Percent
                      </th>
                      <th scope="col" className="number">
                        Fixed (minor units)
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {detail.data.fees.map((fee) => (
                      <tr key={fee.operation_type}>
                        <td>{humanize(fee.operation_type)}</td>
                        <td className="number">{(fee.percent_basis_points / 100).toFixed(2)}%</td>
                        <td className="number">{fee.fixed_minor}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableWrap>
            ) : null}
          </Section>
          <CallbackSettings key={`callback-${current.id}`} project={current} isAdmin={isAdmin} onSaved={refresh} />
          <HoldPolicy key={`hold-${current.id}`} project={current} isAdmin={isAdmin} onSaved={refresh} />
          <SecretKey key={`secret-${current.id}`} project={current} isAdmin={isAdmin} onRotated={refresh} />
        </>
      ) : null}
      <Section title="PCI DSS compliance">
        <PciStatus />
      </Section>
    </Page>
  );
}

function CallbackSettings({ project, isAdmin, onSaved }: { project: ProjectView; isAdmin: boolean; onSaved(): Promise<void> }) {
  const [url, setUrl] = useState(project.callback_url ?? '');
  const saving = useAction();
  const [saved, setSaved] = useState(false);
  useEffect(() => setUrl(project.callback_url ?? ''), [project.callback_url]);

  async function save(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    await saving.run(async () => {
      await api.patch(`/projects/${segment(project.id)}/settings`, { callback_url: url.trim() === '' ? null : url.trim() });
      setSaved(true);
      await onSaved();
    });
  }

  return (
    <Section title="Callbacks">
      <form onSubmit={save} className="stack" aria-label="Callback settings">
        <InputField
          id="callback-url"
          label="Callback URL"
          hint="Where payment results are POSTed (signed JSON). Only HTTP 200 counts as delivered. Leave empty to send none."
          type="url"
          inputMode="url"
          value={url}
          onChange={(event) => setUrl(event.target.value)}
          placeholder="https://shop.example/gatehouse/callbacks"
          disabled={!isAdmin}
        />
        {isAdmin ? (
          <div>
            <button type="submit" className="button button-primary" disabled={saving.busy}>
              {saving.busy ? 'Saving…' : 'Save callback URL'}
            </button>
          </div>
        ) : null}
      </form>
      <ErrorNotice error={saving.error} title="Not saved" />
      {saved ? <Notice kind="success">Callback URL saved.</Notice> : null}
    </Section>
  );
}

function HoldPolicy({ project, isAdmin, onSaved }: { project: ProjectView; isAdmin: boolean; onSaved(): Promise<void> }) {
  const [action, setAction] = useState(project.hold_expiry_action);
  const [hours, setHours] = useState(String(project.hold_period_seconds / 3600));
  const saving = useAction();
  const [hoursError, setHoursError] = useState<string>();
  const [saved, setSaved] = useState(false);

  async function save(event: FormEvent) {
    event.preventDefault();
    const seconds = Math.round(Number(hours) * 3600);
    if (!Number.isFinite(seconds) || seconds < 60 || seconds > 259_200) return setHoursError('Between 0.02 hours (1 minute) and 72 hours (3 days).');
    setHoursError(undefined);
    setSaved(false);
    await saving.run(async () => {
      await api.patch(`/projects/${segment(project.id)}/settings`, { hold_expiry_action: action, hold_period_seconds: seconds });
      setSaved(true);
      await onSaved();
    });
  }

  return (
    <Section title="Hold policy">
      <p className="muted">
        A PayPal hold (an <code>auth</code>) that you neither capture nor release is settled automatically after the hold period. Now:{' '}
        {project.hold_expiry_action === 'capture' ? 'captured' : 'released'} after {formatDuration(project.hold_period_seconds)}.
      </p>
      <form onSubmit={save} className="stack" aria-label="Hold policy">
        <fieldset disabled={!isAdmin}>
          <legend>When the hold period ends</legend>
          <label className="choice">
            <input type="radio" name="hold-action" value="cancel" checked={action === 'cancel'} onChange={() => setAction('cancel')} /> Release the hold (the customer
            is not charged)
          </label>
          <label className="choice">
            <input type="radio" name="hold-action" value="capture" checked={action === 'capture'} onChange={() => setAction('capture')} /> Capture the payment
          </label>
        </fieldset>
        <InputField
          id="hold-hours"
          label="Hold period (hours)"
          hint="PayPal keeps holds for at most 3 days (72 hours)."
          error={hoursError}
          type="number"
          min={0.02}
          max={72}
          step="any"
          value={hours}
          onChange={(event) => setHours(event.target.value)}
          disabled={!isAdmin}
        />
        {isAdmin ? (
          <div>
            <button type="submit" className="button button-primary" disabled={saving.busy}>
              {saving.busy ? 'Saving…' : 'Save hold policy'}
            </button>
          </div>
        ) : null}
      </form>
      <ErrorNotice error={saving.error} title="Not saved" />
      {saved ? <Notice kind="success">Hold policy saved.</Notice> : null}
    </Section>
  );
}

function SecretKey({ project, isAdmin, onRotated }: { project: ProjectView; isAdmin: boolean; onRotated(): Promise<void> }) {
  const [overlap, setOverlap] = useState('86400');
  const [confirming, setConfirming] = useState(false);
  const rotation = useAction();
  const [rotated, setRotated] = useState<{ secret_key: string; previous_secret_key_valid_until: string }>();

  async function rotate() {
    await rotation.run(async () => {
      const answer = await api.post<{ secret_key: string; previous_secret_key_valid_until: string }>(`/projects/${segment(project.id)}/secret-key/rotate`, {
        overlap_seconds: Number(overlap),
      });
      setConfirming(false);
      setRotated(answer);
    });
  }

  return (
    <Section title="Secret key">
      <p className="muted">
        The secret key signs your Gate requests and Gatehouse's callbacks to you. It is never shown again after it is made; rotate it to get a new one.
      </p>
      {project.previous_secret_key_valid_until ? (
        <Notice kind="warning">The previous key still works until {formatDateTime(project.previous_secret_key_valid_until)}: switch your servers before then.</Notice>
      ) : null}
      {isAdmin ? (
        <div className="stack">
          <Field label="Keep the old key working for" htmlFor="rotate-overlap">
            <select id="rotate-overlap" value={overlap} onChange={(event) => setOverlap(event.target.value)}>
              {overlapChoices.map((choice) => (
                <option key={choice.seconds} value={choice.seconds}>
                  {choice.label}
                </option>
              ))}
            </select>
          </Field>
          <div>
            <button type="button" className="button button-danger" onClick={() => setConfirming(true)}>
              Rotate secret key…
            </button>
          </div>
        </div>
      ) : null}
      <ConfirmDialog
        isOpen={confirming}
        title="Rotate the secret key?"
        confirmLabel="Rotate key"
        tone="danger"
        busy={rotation.busy}
        error={rotation.error}
        onConfirm={() => void rotate()}
        onClose={() => {
          setConfirming(false);
          rotation.clearError();
        }}
      >
        <p>
          A new key is made for project {project.name} and shown once. The current key keeps working for{' '}
          {Number(overlap) === 0 ? 'no time at all: requests signed with it fail at once' : formatDuration(Number(overlap))}.
        </p>
      </ConfirmDialog>
      <SecretDialog
        isOpen={!!rotated}
        title="Your new secret key"
        secret={rotated?.secret_key ?? ''}
        onClose={() => {
          setRotated(undefined);
          void onRotated();
        }}
      >
        <p>
          The previous key works until <strong>{formatDateTime(rotated?.previous_secret_key_valid_until)}</strong>. Put the new key on your servers before then.
        </p>
      </SecretDialog>
    </Section>
  );
}
