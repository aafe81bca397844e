import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/**
 * Browser tests drive Debian's Chromium through playwright-core (no browser
 * download: `apt-get install -y chromium` provides /usr/bin/chromium). One
 * browser per test file; one context per scenario.
 */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: install Debian's chromium (apt-get update && apt-get install -y chromium)`);
  }
  return chromium.launch({ executablePath: chromiumPath, args: chromiumArgs, timeout: 30_000 });
}

export const desktopViewport = { width: 1280, height: 800 };
export const phoneViewport = { width: 390, height: 844 };

export const screenshotDir = join(process.cwd(), 'artifacts', 'screenshots', 'payment-page');

/**
 * Saves `<name>-desktop.png` (1280x800) and `<name>-phone.png` (390x844) of
 * the current page, full height, and restores the viewport. Returns whether
 * the page scrolls sideways at phone width (it must not).
 */
export async function screenshotBoth(page: Page, name: string): Promise<{ phoneOverflowPx: number }> {
  mkdirSync(screenshotDir, { recursive: true });
  const original = page.viewportSize() ?? desktopViewport;
  await page.setViewportSize(desktopViewport);
  await page.screenshot({ path: join(screenshotDir, `${name}-desktop.png`), fullPage: true });
  await page.setViewportSize(phoneViewport);
  const phoneOverflowPx = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth).catch(() => 0);
  await page.screenshot({ path: join(screenshotDir, `${name}-phone.png`), fullPage: true });
  await page.setViewportSize(original);
  return { phoneOverflowPx };
}

/** A fresh context (no cookies, no cache) that records CSP violations reported on the console. */
export async function newScenario(browser: Browser, options: { javaScriptEnabled?: boolean } = {}): Promise<{
  context: BrowserContext;
  page: Page;
  cspViolations: string[];
}> {
  const context = await browser.newContext({ viewport: desktopViewport, javaScriptEnabled: options.javaScriptEnabled ?? true });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const cspViolations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
  });
  return { context, page, cspViolations };
}

/**
 * WCAG 2 contrast ratio of an element's text against the first opaque
 * background behind it (our pages use plain colours, no images). The page
 * only reports computed colours; the arithmetic runs here (code shipped into
 * the page must not contain helper functions: tsx renames them).
 */
export async function contrastRatio(page: Page, selector: string): Promise<number> {
  const colours = await page.$eval(selector, (element) => {
    const backgrounds: string[] = [];
    for (let node: Element | null = element; node; node = node.parentElement) backgrounds.push(getComputedStyle(node).backgroundColor);
    return { foreground: getComputedStyle(element).color, backgrounds };
  });
  const background = colours.backgrounds.map(parseColour).find((colour) => colour[3] > 0.99) ?? [255, 255, 255, 1];
  const lighter = Math.max(relativeLuminance(parseColour(colours.foreground)), relativeLuminance(background));
  const darker = Math.min(relativeLuminance(parseColour(colours.foreground)), relativeLuminance(background));
  return (lighter + 0.05) / (darker + 0.05);
}

function parseColour(value: string): [number, number, number, number] {
  const parts = value.match(/[\d.]+/g)?.map(Number) ?? [0, 0, 0];
  return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 1];
}

function relativeLuminance([red, green, blue]: readonly number[]): number {
  const channel = (value: number) => {
    const scaled = value / 255;
    return scaled <= 0.03928 ? scaled / 12.92 : ((scaled + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue);
}
