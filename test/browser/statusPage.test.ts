/**
 * The status page in a real browser: headless Chromium (Debian's package, driven by puppeteer-core)
 * opens `GET /` of the local runner's HTTP API, which monitors real redis-servers; the test kills the
 * master by its PID and, without reloading, sees the page show the new master's address and the
 * failover's timeline. A screenshot of the page after the failover is written to
 * test/browser/artifacts/ (ignored by git), and its path printed.
 *
 * Chromium is required, not optional: .ci/run installs it (`apt-get install chromium`). Set
 * CHROMIUM_PATH to use another binary.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type LocalRunner, startLocalRunner } from '../support/localRunner.js';

// The callbacks below run in the page; the project's types have no DOM, so these declare what they use.
declare const document: { querySelector(selector: string): { textContent: string | null } | null };
declare const window: Record<string, unknown>;

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(import.meta.dirname, 'artifacts');
/** Detection (down-after 1 s) and the failover, on a loaded two-core machine. */
const FAILOVER_TIMEOUT_MS = 40_000;

let runner: LocalRunner;
let browser: Browser;
let apiUrl: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM}: install it (apt-get install -y chromium; .ci/run does) ` +
        'or set CHROMIUM_PATH. The status page is tested in a real browser, never skipped.',
    );
  }
  runner = await startLocalRunner({ dynamodbEndpoint: inject('dynamodbEndpoint'), downAfterMs: 1_000 });
  apiUrl = (await runner.waitForOutput(/HTTP API at (http:\/\/[\d.]+:\d+)/, 10_000))[1] as string;
  browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    // The sandbox needs user namespaces, which containers (and root) often lack; the page is our own.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
});

afterAll(async () => {
  await browser?.close();
  await runner?.stop();
});

const addressText = (page: Page): Promise<string | null> =>
  page.$eval('[data-master="mymaster"]', (e) => e.textContent).catch(() => null);

describe('the status page (GET /) in Chromium', () => {
  it('follows a failover without a reload: the new address, then its timeline', async () => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const problems: string[] = [];
    // A CSP violation (a wrong hash) or a script error shows up here.
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${String(e)}`));
    let documents = 0;
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) documents += 1;
    });

    const response = await page.goto(`${apiUrl}/`, { waitUntil: 'domcontentloaded' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toBe('text/html; charset=utf-8');
    const before = await runner.masterAddress();
    const oldText = `${before.host}:${before.port}`;
    await page.waitForFunction(
      (text) => document.querySelector('[data-master="mymaster"]')?.textContent === text,
      { timeout: 15_000 },
      oldText,
    );
    // A marker the page itself never sets: still there after the failover means no reload happened.
    await page.evaluate(() => {
      window.loadedOnce = true;
    });

    process.kill(runner.topology.master.pid, 'SIGKILL');

    await page.waitForFunction(
      (text) => {
        const shown = document.querySelector('[data-master="mymaster"]')?.textContent;
        return shown !== undefined && shown !== null && shown !== text;
      },
      { timeout: FAILOVER_TIMEOUT_MS },
      oldText,
    );
    const after = await runner.masterAddress();
    expect(after).not.toEqual(before);
    expect(await addressText(page)).toBe(`${after.host}:${after.port}`);

    const lookup = (await (await fetch(`${apiUrl}/v1/masters/mymaster/address`)).json()) as {
      epoch: number;
    };
    expect(lookup.epoch).toBeGreaterThan(0);
    const timeline = `[data-failover-epoch="${lookup.epoch}"][data-failover-master="mymaster"]`;
    await page.waitForSelector(timeline, { timeout: FAILOVER_TIMEOUT_MS });
    // Wait for the replicas to be re-linked (+failover-end), so the screenshot shows the whole failover.
    await page.waitForFunction(
      (selector) => document.querySelector(selector)?.textContent?.includes('complete') === true,
      { timeout: FAILOVER_TIMEOUT_MS },
      timeline,
    );
    const chart = await page.$eval(timeline, (e) => ({
      text: e.textContent ?? '',
      bars: e.querySelectorAll('svg rect').length,
    }));
    expect(chart.text).toContain(`${before.host}:${before.port}`);
    expect(chart.text).toContain(`${after.host}:${after.port}`);
    for (const label of ['kill/SDOWN', 'ODOWN', 'elected', 'promoted', 'switched', 'replicas re-linked'])
      expect(chart.text).toContain(label);
    // Every step was seen: one bar each.
    expect(chart.bars).toBe(6);

    expect(await page.evaluate(() => window.loadedOnce)).toBe(true);
    expect(documents).toBe(1);
    expect(problems).toEqual([]);

    await mkdir(ARTIFACTS, { recursive: true });
    const screenshot = join(ARTIFACTS, 'status-after-failover.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`status page screenshot: ${screenshot}`);
    expect(existsSync(screenshot)).toBe(true);
  });
});
