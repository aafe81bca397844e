import { useChosenProject, ProjectSelect } from '../components/ProjectSelect.tsx';
import { Field, Notice, Page, Section } from '../components/ui.tsx';

/**
 * Payment links. The platform creates them through the signed Gate-style
 * API (POST /v2/payment-links, signed with the project's secret key); the
 * Dashboard API has no route to create or list them for a signed-in user
 * yet, so this screen explains how to make one and where its payments show.
 */
export default function PaymentLinks() {
  const [project, chooseProject] = useChosenProject();
  const projectId = project?.id ?? 1001;
  const request = `{"general":{"project_id":${projectId}},
 "link":{"amount":2500,"currency":"USD","description":"Invoice 2041","single_use":true}}`;
  return (
    <Page title="Payment links" description="A link you send to a customer, who pays on the hosted Payment Page without your site building a signed URL.">
      <Notice kind="info">
        Creating and listing links from the Dashboard is not available yet: links are created with a signed request from your server, as below.
      </Notice>
      <Section title="Create a link with the API">
        <Field label="Project" htmlFor="links-project">
          <ProjectSelect id="links-project" value={project ? String(project.id) : ''} onChange={chooseProject} />
        </Field>
        <ol className="steps">
          <li>
            Sign the request with the project's secret key (the same signature as Gate requests; any ecommpay SDK's signer works):
            <pre className="code" tabIndex={0} aria-label="Request body">
              {request}
            </pre>
          </li>
          <li>
            Send it: <code>POST /v2/payment-links</code>. The answer carries <code>link_id</code> and the <code>url</code> (<code>/pay/&lt;link_id&gt;</code>) to give
            your customer. Add <code>expires_at</code> (ISO 8601) for a link that stops working, and <code>"single_use": false</code> for a link many customers can
            pay.
          </li>
          <li>
            Ask for a link's status and its payments with <code>POST /v2/payment-links/status</code> <code>{'{"general":{...},"link":{"id":"…"}}'}</code>.
          </li>
          <li>
            Payments made through a link are ordinary payments with the payment ID <code>link-&lt;link_id&gt;-&lt;n&gt;</code>: find them under Payments by that ID,
            with the same refunds and callbacks.
          </li>
        </ol>
      </Section>
    </Page>
  );
}
