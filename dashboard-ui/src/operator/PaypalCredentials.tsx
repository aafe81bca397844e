import { useState, type FormEvent } from 'react';
import { api, segment } from '../api.ts';
import { InputField } from '../components/Fields.tsx';
import { DefinitionList, ErrorNotice, Loading, Notice, Section } from '../components/ui.tsx';
import { formatDateTime } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import type { PaypalCredentialsView } from '../types.ts';

/**
 * A production project's PayPal REST credentials (the client id and secret
 * of the merchant's app at PayPal), next to its onboarding. The secret is
 * typed once: the server stores it encrypted and only ever answers its last
 * 4 characters, and the form forgets it as soon as it is saved. Gate takes
 * the project's PayPal payments once onboarding is ready and these are set.
 */
export default function PaypalCredentials({ projectId }: { projectId: string }) {
  const stored = useLoad(
    (signal) => api.get<{ paypal_credentials: PaypalCredentialsView | null }>(`/operator/projects/${segment(projectId)}/paypal-credentials`, undefined, { signal }),
    [projectId],
  );
  const [clientId, setClientId] = useState('');
  const [clientSecret, setClientSecret] = useState('');
  const saving = useAction();
  const [saved, setSaved] = useState(false);

  async function save(event: FormEvent) {
    event.preventDefault();
    setSaved(false);
    const succeeded = await saving.run(async () => {
      await api.put(`/operator/projects/${segment(projectId)}/paypal-credentials`, { client_id: clientId.trim(), client_secret: clientSecret });
    });
    if (!succeeded) return;
    // The secret lives in this form only until the server has it.
    setClientSecret('');
    setClientId('');
    setSaved(true);
    await stored.reload();
  }

  const current = stored.data?.paypal_credentials;
  return (
    <Section title="PayPal credentials">
      <ErrorNotice error={stored.error} title="The credentials could not be loaded" />
      {stored.loading && !stored.data ? <Loading /> : null}
      {stored.data ? (
        <DefinitionList
          items={[
            ['Client ID', current ? <span className="mono">{current.client_id}</span> : 'Not set: PayPal payments are refused until they are'],
            ['Client secret', current ? <span className="mono">…{current.client_secret_last4}</span> : null],
            ['Last change', current?.updated_at ? formatDateTime(current.updated_at) : null],
          ]}
        />
      ) : null}
      <form onSubmit={save} className="stack" aria-label="Set PayPal credentials">
        <p>
          The REST app’s client ID and secret from the merchant’s PayPal account. The secret is stored encrypted and never shown again: only its last 4
          characters. Saving replaces what is set.
        </p>
        <div className="form-grid">
          <InputField
            id="paypal-client-id"
            label="Client ID"
            required
            pattern="[A-Za-z0-9_.\-]{1,128}"
            maxLength={128}
            autoComplete="off"
            spellCheck={false}
            value={clientId}
            onChange={(event) => setClientId(event.target.value)}
          />
          <InputField
            id="paypal-client-secret"
            label="Client secret"
            hint="8 to 256 characters, no spaces."
            type="password"
            required
            minLength={8}
            maxLength={256}
            pattern="[!-~]{8,256}"
            autoComplete="new-password"
            spellCheck={false}
            value={clientSecret}
            onChange={(event) => setClientSecret(event.target.value)}
          />
        </div>
        <div>
          <button type="submit" className="button button-primary" disabled={saving.busy}>
            {saving.busy ? 'Saving…' : current ? 'Replace credentials' : 'Save credentials'}
          </button>
        </div>
      </form>
      <ErrorNotice error={saving.error} title="The credentials were not saved" />
      {saved ? <Notice kind="success">PayPal credentials saved.</Notice> : null}
    </Section>
  );
}
