import { createHash } from 'node:crypto';

/**
 * The Payment Page's own static files: one stylesheet and one script, served
 * from this origin with Subresource Integrity hashes. There are no third-party
 * scripts. The script is an enhancement only (it stops a double submit and
 * says "taking you to PayPal"); every page works without it.
 *
 * PCI DSS 6.4.3 asks for an inventory of every script on a payment page with
 * a justification and a way to check its integrity: `scriptInventory` is
 * served as JSON at /payment/script-inventory.json, and its `integrity` is the
 * same value the pages put in each `<script integrity=...>`, computed from
 * the bytes served.
 */
export const assetBasePath = '/payment/assets';

const stylesheet = `/* Gatehouse Payment Page */
:root { color-scheme: light; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; line-height: 1.5; }
* { box-sizing: border-box; }
body { margin: 0; background: #eef1f5; color: #1a1a1a; }
main { max-width: 32rem; margin: 2rem auto; padding: 1.75rem; background: #fff; border-radius: 10px; box-shadow: 0 1px 4px rgba(0, 0, 0, .18); }
header p { margin: 0; color: #374151; }
h1 { font-size: 1.45rem; line-height: 1.25; margin: .25rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .75rem; }
.test-mode { background: #fff4ce; color: #4a3800; padding: .5rem .75rem; border-radius: 6px; font-size: .9rem; margin: 0 0 1rem; }
.amount { font-size: 2rem; font-weight: 700; margin: 0 0 .5rem; overflow-wrap: anywhere; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 0; }
dt { font-weight: 600; color: #374151; }
dd { margin: 0; overflow-wrap: anywhere; }
ul.methods { list-style: none; padding: 0; margin: 0; display: grid; gap: .75rem; }
.method { display: block; width: 100%; text-align: left; font: inherit; padding: 1rem 1.1rem; border: 2px solid #6b7280; border-radius: 8px; background: #fff; color: #1a1a1a; cursor: pointer; }
.method:hover { border-color: #003087; background: #f3f6fb; }
.method strong { display: block; font-size: 1.1rem; color: #003087; }
.method span { display: block; color: #374151; font-size: .95rem; }
.primary, a.primary { display: inline-block; width: 100%; text-align: center; font: inherit; font-weight: 600; font-size: 1.05rem; padding: .8rem 1.2rem; border-radius: 999px; border: 2px solid #003087; background: #003087; color: #fff; text-decoration: none; cursor: pointer; }
.primary:hover { background: #00256b; }
.secondary, a.secondary { display: inline-block; width: 100%; text-align: center; font: inherit; padding: .7rem 1.2rem; border-radius: 999px; border: 2px solid #003087; background: #fff; color: #003087; text-decoration: none; }
.actions { display: grid; gap: .75rem; margin-top: 1.5rem; }
.hint { color: #374151; font-size: .95rem; }
.status { border-radius: 8px; padding: .9rem 1rem; margin: 0 0 1rem; }
.status-success { background: #e7f6ec; color: #14532d; }
.status-decline { background: #fdecec; color: #7f1d1d; }
.status-pending { background: #eef2ff; color: #1e3a8a; }
.status-error { background: #fdecec; color: #7f1d1d; }
.code { font-family: ui-monospace, monospace; font-size: .9rem; color: #374151; }
a { color: #0b4fc0; }
a:focus-visible, button:focus-visible { outline: 3px solid #1a1a1a; outline-offset: 3px; box-shadow: 0 0 0 6px #fff; }
footer { max-width: 32rem; margin: 0 auto 2rem; padding: 0 1rem; text-align: center; color: #374151; font-size: .85rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 480px) {
  main { margin: 0; border-radius: 0; box-shadow: none; padding: 1.25rem 1rem; min-height: 100vh; }
  .amount { font-size: 1.7rem; }
  dl { grid-template-columns: 1fr; gap: 0; }
  dd { margin-bottom: .5rem; }
}
@media (prefers-reduced-motion: no-preference) {
  .spinner { display: inline-block; width: 1em; height: 1em; border: 3px solid #c7d2fe; border-top-color: #1e3a8a; border-radius: 50%; animation: spin 1s linear infinite; vertical-align: -0.15em; margin-right: .5rem; }
  @keyframes spin { to { transform: rotate(360deg); } }
}
`;

const script = `/* Gatehouse Payment Page: optional enhancement, every page works without it.
   It stops a second submit of the same form (a double click) and tells the
   customer that PayPal is being opened. It reads and writes nothing else. */
'use strict';
document.addEventListener('submit', function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  if (form.getAttribute('data-submitted') === 'true') {
    event.preventDefault();
    return;
  }
  form.setAttribute('data-submitted', 'true');
  form.setAttribute('aria-busy', 'true');
  var button = event.submitter;
  var busyLabel = form.getAttribute('data-busy-label');
  if (button && busyLabel) {
    button.setAttribute('aria-disabled', 'true');
    var status = document.getElementById('form-status');
    if (status) status.textContent = busyLabel;
  }
});
`;

export interface Asset {
  /** Path under the server root. */
  path: string;
  contentType: string;
  body: Buffer;
  /** Subresource Integrity value: `sha384-<base64>`. */
  integrity: string;
  purpose: string;
}

function asset(name: string, contentType: string, content: string, purpose: string): Asset {
  const body = Buffer.from(content, 'utf8');
  return {
    path: `${assetBasePath}/${name}`,
    contentType,
    body,
    integrity: `sha384-${createHash('sha384').update(body).digest('base64')}`,
    purpose,
  };
}

export const pageStylesheet = asset('page.css', 'text/css; charset=utf-8', stylesheet, 'Layout and colours of the Payment Page.');
export const pageScript = asset(
  'page.js',
  'text/javascript; charset=utf-8',
  script,
  'Prevents a double submit of the payment form and announces the redirect to PayPal. Optional: the page works without it.',
);

export const assets: ReadonlyMap<string, Asset> = new Map([pageStylesheet, pageScript].map((entry) => [entry.path, entry]));

/** The PCI DSS 6.4.3 script inventory (served as JSON). */
export function scriptInventory() {
  return {
    page: '/payment',
    third_party_scripts: [],
    inline_scripts: [],
    scripts: [pageScript].map((entry) => ({
      src: entry.path,
      integrity: entry.integrity,
      bytes: entry.body.length,
      purpose: entry.purpose,
      required: false,
      authorized_by: 'Gatehouse (src/payment-page/assets.ts)',
    })),
    stylesheets: [pageStylesheet].map((entry) => ({ href: entry.path, integrity: entry.integrity, bytes: entry.body.length })),
    content_security_policy: 'see the content-security-policy header of any /payment page',
  };
}
