import { paypalCurrencies } from '../domain/currencies.ts';
import { formatDecimal } from '../domain/money.ts';
import { pageScript, pageStylesheet } from './assets.ts';
import { localeOf, text, type Language, type MessageKey } from './i18n.ts';

/**
 * Server-rendered pages of the Payment Page. No inline script or style (the
 * CSP forbids both); the only script is our own file with its SRI hash, and
 * nothing depends on it. Every value from a request or the database passes
 * through `escapeHtml`.
 */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** What the customer is paying: shown on every page of a payment. */
export interface PaymentSummary {
  merchantName: string;
  testMode: boolean;
  amountMinor: bigint;
  currency: string;
  description: string;
  /** Empty before a payment link's attempt has its payment_id: the row is left out. */
  paymentId: string;
}

/**
 * The amount in the customer's language, from minor units with the currency
 * table's exponent (never through a float: Intl formats the exact decimal
 * string). 1000 USD -> "$10.00" (en), "10,00 $" (de).
 */
export function formatAmount(amountMinor: bigint, currency: string, language: Language): string {
  const exponent = paypalCurrencies.get(currency)?.exponent ?? 2;
  const decimal = formatDecimal(amountMinor, exponent);
  try {
    const format = new Intl.NumberFormat(localeOf[language], {
      style: 'currency',
      currency,
      minimumFractionDigits: exponent,
      maximumFractionDigits: exponent,
    });
    return format.format(decimal as unknown as number);
  } catch {
    return `${decimal} ${currency}`;
  }
}

interface LayoutOptions {
  language: Language;
  title: string;
  body: string;
  /** Server-driven polling without JavaScript. */
  refresh?: { seconds: number; url: string };
  testMode?: boolean;
}

function layout(options: LayoutOptions): string {
  const { language } = options;
  const refresh = options.refresh
    ? `\n<meta http-equiv="refresh" content="${options.refresh.seconds}; url=${escapeHtml(options.refresh.url)}">`
    : '';
  const testBanner = options.testMode ? `\n<p class="test-mode">${escapeHtml(text(language, 'testMode'))}</p>` : '';
  return `<!doctype html>
<html lang="${language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">${refresh}
<title>${escapeHtml(options.title)} – ${escapeHtml(text(language, 'documentTitle'))}</title>
<link rel="stylesheet" href="${pageStylesheet.path}" integrity="${pageStylesheet.integrity}">
<script src="${pageScript.path}" integrity="${pageScript.integrity}" defer></script>
</head>
<body>
<main>${testBanner}
${options.body}
</main>
<footer><p>${escapeHtml(text(language, 'footer'))}</p></footer>
</body>
</html>
`;
}

function summaryBlock(language: Language, summary: PaymentSummary): string {
  const description = summary.description
    ? `\n<dt>${escapeHtml(text(language, 'description'))}</dt><dd>${escapeHtml(summary.description)}</dd>`
    : '';
  const order = summary.paymentId ? `\n<dt>${escapeHtml(text(language, 'order'))}</dt><dd>${escapeHtml(summary.paymentId)}</dd>` : '';
  return `<dl>
<dt>${escapeHtml(text(language, 'amount'))}</dt><dd>${escapeHtml(formatAmount(summary.amountMinor, summary.currency, language))}</dd>${description}${order}
</dl>`;
}

function header(language: Language, summary: PaymentSummary, title: string): string {
  return `<header>
<p>${escapeHtml(text(language, 'paymentTo', { merchant: summary.merchantName }))}</p>
<h1>${escapeHtml(title)}</h1>
</header>`;
}

function link(href: string, label: string, className: string): string {
  return `<a class="${className}" href="${escapeHtml(href)}">${escapeHtml(label)}</a>`;
}

export interface ChoosePageOptions {
  language: Language;
  summary: PaymentSummary;
  /** Where the method form posts (same origin). */
  formAction: string;
  /** `force_payment_method=paypal-wallet`: PayPal is shown selected, without a method list. */
  forced: boolean;
  hiddenFields?: Readonly<Record<string, string>>;
}

/** The Payment Page proper: amount, description and the project's methods (PayPal). */
export function choosePage(options: ChoosePageOptions): string {
  const { language, summary } = options;
  const amount = formatAmount(summary.amountMinor, summary.currency, language);
  const hidden = Object.entries(options.hiddenFields ?? {})
    .map(([name, value]) => `\n<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const formOpen = `<form method="post" action="${escapeHtml(options.formAction)}" data-busy-label="${escapeHtml(text(language, 'busy'))}">${hidden}`;
  const status = `\n<p id="form-status" class="hint" role="status" aria-live="polite"></p>`;
  const methods = options.forced
    ? `<section aria-labelledby="method-heading">
<h2 id="method-heading">${escapeHtml(text(language, 'methodPaypal'))}</h2>
<p class="hint" id="paypal-hint">${escapeHtml(text(language, 'methodPaypalHint'))}</p>
${formOpen}
<input type="hidden" name="method" value="paypal-wallet">
<div class="actions">
<button class="primary" type="submit" aria-describedby="paypal-hint">${escapeHtml(text(language, 'payWithPaypal', { amount }))}</button>
</div>${status}
</form>
</section>`
    : `<section aria-labelledby="method-heading">
<h2 id="method-heading">${escapeHtml(text(language, 'chooseMethod'))}</h2>
${formOpen}
<ul class="methods">
<li><button class="method" type="submit" name="method" value="paypal-wallet"><strong>${escapeHtml(text(language, 'methodPaypal'))}</strong><span>${escapeHtml(text(language, 'methodPaypalHint'))}</span></button></li>
</ul>${status}
</form>
</section>`;
  return layout({
    language,
    title: amount,
    testMode: summary.testMode,
    body: `<header>
<p>${escapeHtml(text(language, 'paymentTo', { merchant: summary.merchantName }))}</p>
<h1 class="amount">${escapeHtml(amount)}</h1>
</header>
${summaryBlock(language, summary)}
${methods}`,
  });
}

export type WaitingStage = 'starting' | 'slow' | 'stalled';

/** Shown while the provider job creates the PayPal order; refreshes itself until the approval URL is known. */
export function waitingPage(language: Language, summary: PaymentSummary, stage: WaitingStage, refreshUrl: string): string {
  const message: MessageKey = stage === 'starting' ? 'waitingText' : stage === 'slow' ? 'waitingSlow' : 'waitingStalled';
  const refresh = stage === 'stalled' ? undefined : { seconds: stage === 'starting' ? 1 : 5, url: refreshUrl };
  return layout({
    language,
    title: text(language, 'waitingTitle'),
    testMode: summary.testMode,
    refresh,
    body: `${header(language, summary, text(language, 'waitingTitle'))}
<p class="status status-pending" role="status"><span class="spinner" aria-hidden="true"></span>${escapeHtml(text(language, message))}</p>
${summaryBlock(language, summary)}
<div class="actions">${link(refreshUrl, text(language, 'refreshNow'), 'secondary')}</div>`,
  });
}

/** The order exists and waits for the customer at PayPal (a reopened page, or the back button). */
export function approvePage(language: Language, summary: PaymentSummary, approvalUrl: string): string {
  return layout({
    language,
    title: text(language, 'approveTitle'),
    testMode: summary.testMode,
    body: `${header(language, summary, text(language, 'approveTitle'))}
<p class="status status-pending">${escapeHtml(text(language, 'approveText'))}</p>
${summaryBlock(language, summary)}
<div class="actions">${link(approvalUrl, text(language, 'continueToPaypal'), 'primary')}</div>`,
  });
}

/** Back from PayPal, the capture is still running (or PayPal reports it pending). */
export function pendingPage(language: Language, summary: PaymentSummary, refreshUrl: string | undefined, shopUrl: string | undefined): string {
  const stalled = refreshUrl === undefined;
  const shop = shopUrl ? `\n<div class="actions">${link(shopUrl, text(language, 'returnToShop'), 'secondary')}</div>` : '';
  return layout({
    language,
    title: text(language, 'pendingTitle'),
    testMode: summary.testMode,
    refresh: refreshUrl ? { seconds: 2, url: refreshUrl } : undefined,
    body: `${header(language, summary, text(language, 'pendingTitle'))}
<p class="status status-pending" role="status"><span class="spinner" aria-hidden="true"></span>${escapeHtml(text(language, stalled ? 'pendingStalled' : 'pendingText'))}</p>
${summaryBlock(language, summary)}${shop}`,
  });
}

export function successPage(language: Language, summary: PaymentSummary, shopUrl: string | undefined): string {
  const amount = formatAmount(summary.amountMinor, summary.currency, language);
  const next = shopUrl ? link(shopUrl, text(language, 'returnToShop'), 'primary') : `<p class="hint">${escapeHtml(text(language, 'closeWindow'))}</p>`;
  return layout({
    language,
    title: text(language, 'successTitle'),
    testMode: summary.testMode,
    body: `${header(language, summary, text(language, 'successTitle'))}
<p class="status status-success" role="status">${escapeHtml(text(language, 'successText', { amount }))}</p>
${summaryBlock(language, summary)}
<div class="actions">${next}</div>`,
  });
}

export type DeclineReason = 'cancelled' | 'declined' | 'expired' | 'other';

const declineMessages: Readonly<Record<DeclineReason, MessageKey>> = {
  cancelled: 'declineCancelled',
  declined: 'declineDeclined',
  expired: 'declineExpired',
  other: 'declineOther',
};

export function declinePage(
  language: Language,
  summary: PaymentSummary,
  reason: DeclineReason,
  links: { shopUrl?: string; tryAgainUrl?: string },
): string {
  const actions = [
    links.tryAgainUrl ? link(links.tryAgainUrl, text(language, 'tryAgain'), 'primary') : '',
    links.shopUrl ? link(links.shopUrl, text(language, 'returnToShop'), links.tryAgainUrl ? 'secondary' : 'primary') : '',
  ].filter(Boolean);
  const next = actions.length > 0 ? actions.join('\n') : `<p class="hint">${escapeHtml(text(language, 'closeWindow'))}</p>`;
  return layout({
    language,
    title: text(language, 'declineTitle'),
    testMode: summary.testMode,
    body: `${header(language, summary, text(language, 'declineTitle'))}
<p class="status status-decline" role="status">${escapeHtml(text(language, declineMessages[reason]))}</p>
${summaryBlock(language, summary)}
<div class="actions">${next}</div>`,
  });
}

/** A page that refuses: what went wrong in words, and a code for the shop's support. */
export function errorPage(language: Language, title: string, message: string, code?: string): string {
  const codeLine = code ? `\n<p class="code">${escapeHtml(text(language, 'errorCode'))}: ${escapeHtml(code)}</p>` : '';
  return layout({
    language,
    title,
    body: `<h1>${escapeHtml(title)}</h1>
<p class="status status-error" role="alert">${escapeHtml(message)}</p>${codeLine}`,
  });
}

/** A short notice that is not an error (a payment link that is already paid). */
export function noticePage(language: Language, title: string, message: string): string {
  return layout({
    language,
    title,
    body: `<h1>${escapeHtml(title)}</h1>
<p class="status status-success" role="status">${escapeHtml(message)}</p>
<p class="hint">${escapeHtml(text(language, 'closeWindow'))}</p>`,
  });
}
