import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, segment } from '../api.ts';
import { NewUserForm } from '../components/UserForm.tsx';
import { DefinitionList, describedBy, EmptyRow, ErrorNotice, Field, LoadStatus, ModeBadge, Notice, Page, SecretDialog, Section, StatusBadge, TableWrap } from '../components/ui.tsx';
import { formatDate, formatDateTime, roleLabels } from '../format.ts';
import { useAction, useLoad } from '../hooks.ts';
import { pciName } from '../components/PciStatus.tsx';
import type { MerchantView, PciSummaryView, ProjectView, UserView } from '../types.ts';

/**
 * One merchant for an operator: its projects (add test or production ones;
 * the secret key is shown once), its users (add the first admin), and its
 * PCI DSS documents with their validity (record a new one).
 */
interface MerchantDetailView {
  merchant: MerchantView;
  projects: ProjectView[];
  users: UserView[];
  pci: PciSummaryView;
}

export default function MerchantDetail() {
  const { merchantId = '' } = useParams();
  const detail = useLoad((signal) => api.get<MerchantDetailView>(`/operator/merchants/${segment(merchantId)}`, undefined, { signal }), [merchantId]);
  if (!detail.data) {
    return (
      <Page title={`Merchant #${merchantId}`}>
        <LoadStatus load={detail} errorTitle="The merchant could not be loaded" />
      </Page>
    );
  }
  const { merchant, projects, users, pci } = detail.data;
  return (
    <Page title={merchant.name} description={`Merchant #${merchant.id} · since ${formatDate(merchant.created_at)}`} actions={<Link to="/operator">All merchants</Link>}>
      <Section title="Projects">
        <TableWrap label="Projects">
          <table>
            <thead>
              <tr>
                <th scope="col">ID</th>
                <th scope="col">Name</th>
                <th scope="col">Mode</th>
                <th scope="col">PayPal</th>
                <th scope="col">Callback URL</th>
                <th scope="col">Fees</th>
              </tr>
            </thead>
            <tbody>
              {projects.length === 0 ? <EmptyRow columns={6}>No projects yet.</EmptyRow> : null}
              {projects.map((project) => (
                <tr key={project.id}>
                  <td className="mono">{project.id}</td>
                  <th scope="row">{project.name}</th>
                  <td>
                    <ModeBadge mode={project.mode} />
                  </td>
                  <td>
                    <Link to={`/operator/projects/${project.id}/onboarding`}>
                      {project.paypal_onboarding_state ? <StatusBadge status={project.paypal_onboarding_state} /> : project.paypal_enabled ? 'Enabled' : 'Not started'}
                      <span className="sr-only"> PayPal onboarding of project {project.id}</span>
                    </Link>
                  </td>
                  <td className="mono excerpt">{project.callback_url ?? '—'}</td>
                  <td>
                    <Link to={`/operator/projects/${project.id}/fees`}>
                      Edit fees<span className="sr-only"> of project {project.id}</span>
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
        <NewProject merchantId={merchant.id} onCreated={detail.reload} />
      </Section>
      <Section title="Users">
        <TableWrap label="Users">
          <table className="compact">
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Role</th>
                <th scope="col">Access</th>
                <th scope="col">Added</th>
              </tr>
            </thead>
            <tbody>
              {users.length === 0 ? <EmptyRow columns={4}>No users yet: add the first admin.</EmptyRow> : null}
              {users.map((user) => (
                <tr key={user.id}>
                  <th scope="row">{user.email}</th>
                  <td>{roleLabels[user.role]}</td>
                  <td>{user.disabled ? <StatusBadge status="disabled" /> : <StatusBadge status="ok" />}</td>
                  <td className="nowrap">{formatDateTime(user.created_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
        <NewUserForm
          idPrefix="merchant-user"
          path={`/operator/merchants/${merchant.id}/users`}
          roles={[
            { value: 'merchant_admin', label: 'Admin' },
            { value: 'merchant_viewer', label: 'Viewer' },
          ]}
          onAdded={detail.reload}
        />
      </Section>
      <PciDocuments merchantId={merchant.id} pci={pci} onAdded={detail.reload} />
    </Page>
  );
}

function NewProject({ merchantId, onCreated }: { merchantId: number; onCreated(): Promise<void> }) {
  const [name, setName] = useState('');
  const [mode, setMode] = useState<'test' | 'production'>('test');
  const [callbackUrl, setCallbackUrl] = useState('');
  const creating = useAction();
  const [secret, setSecret] = useState<{ key: string; projectId: number }>();

  async function create(event: FormEvent) {
    event.preventDefault();
    await creating.run(async () => {
      const answer = await api.post<{ project: ProjectView; secret_key: string }>(`/operator/merchants/${merchantId}/projects`, {
        name: name.trim(),
        mode,
        ...(callbackUrl.trim() ? { callback_url: callbackUrl.trim() } : {}),
      });
      setSecret({ key: answer.secret_key, projectId: answer.project.id });
      setName('');
      setCallbackUrl('');
      await onCreated();
    });
  }

  return (
    <>
      <form onSubmit={create} className="form-grid" aria-label="Add a project">
        <Field label="Project name" htmlFor="project-name">
          <input id="project-name" required maxLength={200} value={name} onChange={(event) => setName(event.target.value)} />
        </Field>
        <Field label="Mode" htmlFor="project-mode">
          <select id="project-mode" value={mode} onChange={(event) => setMode(event.target.value as typeof mode)}>
            <option value="test">Test (PayPal sandbox)</option>
            <option value="production">Production (real PayPal, after onboarding)</option>
          </select>
        </Field>
        <Field label="Callback URL (optional)" htmlFor="project-callback">
          <input id="project-callback" type="url" value={callbackUrl} onChange={(event) => setCallbackUrl(event.target.value)} />
        </Field>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={creating.busy}>
            Add project
          </button>
        </div>
      </form>
      <ErrorNotice error={creating.error} title="The project was not added" />
      <SecretDialog isOpen={!!secret} title={`Secret key of project #${secret?.projectId ?? ''}`} secret={secret?.key ?? ''} onClose={() => setSecret(undefined)}>
        <p>Give it to the merchant over a secure channel; they can rotate it in their Dashboard.</p>
      </SecretDialog>
    </>
  );
}

function PciDocuments({ merchantId, pci, onAdded }: { merchantId: number; pci: PciSummaryView; onAdded(): Promise<void> }) {
  const [kind, setKind] = useState('asv_scan');
  const [issuedOn, setIssuedOn] = useState(new Date().toISOString().slice(0, 10));
  const [validUntil, setValidUntil] = useState('');
  const [reference, setReference] = useState('');
  const recording = useAction();
  const [added, setAdded] = useState(false);

  async function add(event: FormEvent) {
    event.preventDefault();
    setAdded(false);
    await recording.run(async () => {
      await api.post(`/operator/merchants/${merchantId}/pci-documents`, {
        kind,
        issued_on: issuedOn,
        ...(validUntil ? { valid_until: validUntil } : {}),
        ...(reference.trim() ? { reference: reference.trim() } : {}),
      });
      setAdded(true);
      setValidUntil('');
      setReference('');
      await onAdded();
    });
  }

  return (
    <Section title="PCI DSS documents">
      <DefinitionList
        items={[
          ['Status', <StatusBadge status={pci.status} />],
          ['Production operations, last 365 days', pci.operations_last_year.toLocaleString('en')],
          ...pci.required.map(
            (entry) =>
              [pciName(entry.kind), <>
                <StatusBadge status={entry.status} /> {entry.valid_until ? `until ${formatDate(entry.valid_until)}` : ''}
              </>] as [string, ReactNode],
          ),
        ]}
      />
      <TableWrap label="PCI DSS documents on file">
        <table className="compact">
          <thead>
            <tr>
              <th scope="col">Document</th>
              <th scope="col">Issued</th>
              <th scope="col">Valid until</th>
              <th scope="col">Reference</th>
            </tr>
          </thead>
          <tbody>
            {pci.documents.length === 0 ? <EmptyRow columns={4}>No documents on file.</EmptyRow> : null}
            {pci.documents.map((document) => (
              <tr key={document.id}>
                <td>{pciName(document.kind)}</td>
                <td className="nowrap">{formatDate(document.issued_on)}</td>
                <td className="nowrap">{formatDate(document.valid_until)}</td>
                <td className="excerpt">{document.reference || '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </TableWrap>
      <form onSubmit={add} className="form-grid" aria-label="Record a PCI DSS document">
        <Field label="Document" htmlFor="pci-kind">
          <select id="pci-kind" value={kind} onChange={(event) => setKind(event.target.value)}>
            <option value="asv_scan">ASV scan</option>
            <option value="aoc">Attestation of Compliance (AOC)</option>
            <option value="saq">Self-Assessment Questionnaire (SAQ)</option>
          </select>
        </Field>
        <Field label="Issued on" htmlFor="pci-issued">
          <input id="pci-issued" type="date" required value={issuedOn} onChange={(event) => setIssuedOn(event.target.value)} />
        </Field>
        <Field label="Valid until (optional)" htmlFor="pci-valid" hint="Default: a quarter for ASV scans, a year for AOC and SAQ.">
          <input id="pci-valid" type="date" min={issuedOn} value={validUntil} onChange={(event) => setValidUntil(event.target.value)} aria-describedby={describedBy('pci-valid', true)} />
        </Field>
        <Field label="Reference (optional)" htmlFor="pci-reference">
          <input id="pci-reference" maxLength={500} value={reference} onChange={(event) => setReference(event.target.value)} />
        </Field>
        <div className="form-actions">
          <button type="submit" className="button button-primary">
            Record document
          </button>
        </div>
      </form>
      <ErrorNotice error={recording.error} title="The document was not recorded" />
      {added ? <Notice kind="success">Document recorded.</Notice> : null}
    </Section>
  );
}
