import { useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router-dom';
import { mayMove, onboardingStates, paypalPermissions, type OnboardingState } from '../../../src/accounts/paypal-onboarding.ts';
import { api, segment } from '../api.ts';
import { InputField } from '../components/Fields.tsx';
import { ConfirmDialog, DefinitionList, ErrorNotice, Loading, ModeBadge, Notice, Page, Section, StatusBadge } from '../components/ui.tsx';
import { formatDateTime, humanize } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import type { OnboardingView, ProjectView } from '../types.ts';
import PaypalCredentials from './PaypalCredentials.tsx';

/**
 * PayPal onboarding of one project, the method guide's steps: requested →
 * link sent → rights granted (PayPal merchant ID and permissions) → set up
 * → ready; revoked from any step, requested again after a revocation. Only
 * the moves the platform allows from the current state are offered (the
 * same transition table as the server, src/accounts/paypal-onboarding.ts).
 * A production project's PayPal credentials are set here too.
 */
const mainPath: OnboardingState[] = ['requested', 'link_sent', 'rights_granted', 'set_up', 'ready'];
const permissionLabels: Record<string, string> = { purchases_refunds: 'Purchases and refunds', payouts: 'Payouts' };
const stepHelp: Record<OnboardingState, string> = {
  requested: 'The merchant asked to accept PayPal.',
  link_sent: 'The merchant got the PayPal onboarding link.',
  rights_granted: "The merchant granted rights on their PayPal account (merchant ID and permissions).",
  set_up: 'Gatehouse is set up with the merchant\'s PayPal account.',
  ready: 'PayPal payments are on.',
  revoked: 'The merchant revoked the rights: PayPal payments are off.',
};

export default function Onboarding() {
  const { projectId = '' } = useParams();
  const projects = useLoad((signal) => api.get<{ projects: ProjectView[] }>('/operator/projects', undefined, { signal }), []);
  const onboarding = useLoad(
    (signal) => api.get<{ paypal_onboarding: OnboardingView | null }>(`/operator/projects/${segment(projectId)}/paypal-onboarding`, undefined, { signal }),
    [projectId],
  );
  const project = projects.data?.projects.find((candidate) => String(candidate.id) === projectId);
  const state = onboarding.data?.paypal_onboarding?.state as OnboardingState | undefined;
  const nextStates = onboardingStates.filter((candidate) => mayMove(state, candidate));

  const [target, setTarget] = useState<OnboardingState>();
  const [link, setLink] = useState('');
  const [merchantId, setMerchantId] = useState('');
  const [permissions, setPermissions] = useState<string[]>(['purchases_refunds']);
  const moving = useAction();
  const [moved, setMoved] = useState<string>();

  async function move() {
    if (!target) return;
    await moving.run(async () => {
      await api.post(`/operator/projects/${segment(projectId)}/paypal-onboarding`, {
        state: target,
        ...(target === 'link_sent' && link.trim() ? { onboarding_link: link.trim() } : {}),
        ...(target === 'rights_granted' ? { paypal_merchant_id: merchantId.trim(), permissions } : {}),
      });
      setMoved(humanize(target));
      setTarget(undefined);
      await Promise.all([onboarding.reload(), projects.reload()]);
    });
  }

  function ask(event: FormEvent, next: OnboardingState) {
    event.preventDefault();
    moving.clearError();
    setMoved(undefined);
    setTarget(next);
  }

  const current = onboarding.data?.paypal_onboarding;
  return (
    <Page
      title={`PayPal onboarding${project ? `: ${project.name}` : ` of project #${projectId}`}`}
      description={project ? <><ModeBadge mode={project.mode} /> Project #{project.id}{project.merchant_id ? ` · merchant #${project.merchant_id}` : ''}</> : undefined}
      actions={<Link to="/operator/projects">All projects</Link>}
    >
      <ErrorNotice error={onboarding.error ?? projects.error} title="Onboarding could not be loaded" />
      {onboarding.loading && !onboarding.data ? <Loading /> : null}
      {moved ? <Notice kind="success">Moved to “{moved}”.</Notice> : null}
      {onboarding.data ? (
        <>
          <Section title="Where it stands">
            <ol className="stepper" aria-label="Onboarding steps">
              {mainPath.map((step) => {
                const reached = state !== undefined && state !== 'revoked' && mainPath.indexOf(step) <= mainPath.indexOf(state);
                return (
                  <li key={step} className={`step${reached ? ' step-done' : ''}${step === state ? ' step-current' : ''}`} aria-current={step === state ? 'step' : undefined}>
                    <span className="step-name">{humanize(step)}</span>
                    <span className="step-help">{stepHelp[step]}</span>
                  </li>
                );
              })}
            </ol>
            {state === 'revoked' ? <Notice kind="warning">{stepHelp.revoked}</Notice> : null}
            <DefinitionList
              items={[
                ['State', state ? <StatusBadge status={state} /> : 'Not started'],
                ['Onboarding link', current?.onboarding_link ? <span className="mono excerpt">{current.onboarding_link}</span> : null],
                ['PayPal merchant ID', current?.paypal_merchant_id ? <span className="mono">{current.paypal_merchant_id}</span> : null],
                ['Permissions', current?.permissions?.length ? current.permissions.map((permission) => permissionLabels[permission] ?? permission).join(', ') : null],
                ['PayPal payments', project ? (project.paypal_enabled ? 'On' : 'Off') : null],
                ['Last change', current ? formatDateTime(current.updated_at) : null],
              ]}
            />
          </Section>
          <Section title="Next step">
            {nextStates.length === 0 ? <p className="muted">No step is possible from here.</p> : null}
            {nextStates.map((next) => (
              <form key={next} onSubmit={(event) => ask(event, next)} className="stack step-form" aria-label={`Move to ${humanize(next)}`}>
                <p>
                  <strong>{humanize(next)}</strong>: {stepHelp[next]}
                </p>
                {next === 'link_sent' ? (
                  <InputField
                    id="onboarding-link"
                    label="Onboarding link (optional)"
                    hint="The https:// link the merchant got from PayPal."
                    type="url"
                    pattern="https://.*"
                    value={link}
                    onChange={(event) => setLink(event.target.value)}
                  />
                ) : null}
                {next === 'rights_granted' ? (
                  <>
                    <InputField
                      id="paypal-merchant-id"
                      label="PayPal merchant ID"
                      hint="Letters, digits, - and _."
                      required
                      pattern="[A-Za-z0-9_\-]+"
                      maxLength={64}
                      value={merchantId}
                      onChange={(event) => setMerchantId(event.target.value)}
                    />
                    <fieldset>
                      <legend>Rights granted</legend>
                      {paypalPermissions.map((permission) => (
                        <label key={permission} className="choice">
                          <input
                            type="checkbox"
                            checked={permissions.includes(permission)}
                            onChange={(event) =>
                              setPermissions((list) => (event.target.checked ? [...list, permission] : list.filter((item) => item !== permission)))
                            }
                          />{' '}
                          {permissionLabels[permission]}
                        </label>
                      ))}
                    </fieldset>
                  </>
                ) : null}
                <div>
                  <button
                    type="submit"
                    className={`button ${next === 'revoked' ? 'button-danger' : 'button-primary'}`}
                    disabled={next === 'rights_granted' && permissions.length === 0}
                  >
                    {next === 'revoked' ? 'Mark rights revoked…' : `Move to “${humanize(next)}”…`}
                  </button>
                </div>
              </form>
            ))}
          </Section>
          {project?.mode === 'production' ? <PaypalCredentials projectId={projectId} /> : null}
        </>
      ) : null}
      <ConfirmDialog
        isOpen={!!target}
        title={`Move onboarding to “${target ? humanize(target) : ''}”?`}
        confirmLabel="Move"
        tone={target === 'revoked' ? 'danger' : 'primary'}
        busy={moving.busy}
        error={moving.error}
        onConfirm={() => void move()}
        onClose={() => {
          setTarget(undefined);
          moving.clearError();
        }}
      >
        <p>{target ? stepHelp[target] : ''}</p>
        {project?.mode === 'production' && (target === 'ready' || target === 'revoked') ? (
          <p>
            <strong>PayPal payments of this production project turn {target === 'ready' ? 'on' : 'off'}.</strong>
          </p>
        ) : null}
      </ConfirmDialog>
    </Page>
  );
}
