import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { ParleyServer } from '../../src/app/server';
import { SendMessageDocument } from '../../src/client/generated';
import { ok } from '../support/clients';
import { buildConversation, buildUser } from '../support/factories';
import { trackStreams } from '../support/live';
import { useInstances, type TestCluster } from '../support/server';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium';

/** The README's screenshot of the explorer, rewritten by a run with UPDATE_SCREENSHOTS=1. */
const SCREENSHOT = join(__dirname, '..', 'screenshots', 'explorer.png');

const setup = useInstances(1);
let cluster: TestCluster;
let server: ParleyServer;
let browser: BrowserContext;
let profile: string;
beforeAll(async () => {
  ({ cluster, a: server } = setup);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
  profile = await mkdtemp(join(tmpdir(), 'parley-chromium-'));
  // An empty profile (--user-data-dir), which playwright takes as launchPersistentContext's argument.
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport: { width: 1280, height: 800 },
    args: CHROMIUM_ARGS,
  });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** A page on which every request outside localhost is refused (no CDN may be needed). */
async function offlinePage(): Promise<{ page: Page; outside: string[] }> {
  const page = await browser.newPage();
  const outside: string[] = [];
  await page.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === '127.0.0.1' || hostname === 'localhost') return route.continue();
    outside.push(route.request().url());
    return route.abort();
  });
  return { page, outside };
}

/**
 * Replaces the text of the CodeMirror editor inside `scope`, once it shows `current`: Altair fills
 * an editor after drawing it, and would overwrite what was typed before that.
 */
async function setEditor(page: Page, scope: string, current: string, text: string): Promise<void> {
  const editor = page.locator(`${scope} .cm-content`).first();
  await editor.filter({ hasText: current }).waitFor();
  await editor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // insertText: no key events, so the editor adds no closing brackets or quotes of its own.
  await page.keyboard.insertText(text);
  await editor.filter({ hasText: text }).waitFor({ timeout: 5_000 });
}

/** Waits for the result pane to show `text`; a timeout says what the pane showed instead. */
async function waitForResult(page: Page, text: string): Promise<void> {
  const pane = page.locator('app-query-result').first();
  try {
    await pane.getByText(text).first().waitFor({ timeout: 15_000 });
  } catch (error) {
    const shown = await pane.innerText().catch(() => '(no result pane)');
    throw new Error(`the result pane never showed ${text}; it showed:\n${shown}`, { cause: error });
  }
}

it('loads offline, runs a query with a token and shows a live messageAdded event', async () => {
  const alice = await buildUser(server);
  const bob = await buildUser(server);
  const conversation = await buildConversation(server, alice, bob);
  const { page, outside } = await offlinePage();
  try {
    await page.goto(server.url.replace('localhost', '127.0.0.1'));
    await page.getByText('Send Request').waitFor({ timeout: 30_000 });

    // The place for the token: the environment variable the prefilled header and payload read.
    await page.getByText('No environment').click();
    await page.getByText('Environments...').click();
    await setEditor(page, 'nz-modal-container', '"token"', JSON.stringify({ token: alice.token }));
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('nz-modal-container').waitFor({ state: 'hidden' });

    await setEditor(page, 'app-query-editor', '{ me { id username } }', '{ me { username } }');
    await page.getByText('Send Request').click();
    await waitForResult(page, `"username": "${alice.username}"`);

    const streams = await trackStreams(server, 'messageAdded');
    await setEditor(
      page,
      'app-query-editor',
      '{ me { username } }',
      `subscription { messageAdded(conversationId: "${conversation.id}") { body } }`,
    );
    await page
      .getByText(/Send Request|Subscribe/)
      .first()
      .click();
    await streams.ready(1);
    await ok(
      server,
      SendMessageDocument,
      { input: { conversationId: conversation.id, body: 'hello from the test' } },
      bob.token,
    );
    await waitForResult(page, 'hello from the test');
    if (process.env.UPDATE_SCREENSHOTS) await page.screenshot({ path: SCREENSHOT });
    expect(outside).toEqual([]);
  } finally {
    await page.close();
  }
}, 90_000);

it('is served only to browsers, and not when EXPLORER=false', async () => {
  const html = { accept: 'text/html' };
  const page = await fetch(server.url, { headers: html });
  expect(page.status).toBe(200);
  expect(await page.text()).toContain('AltairGraphQL.init');
  // A GET with a query is a GraphQL request, whatever it accepts.
  const query = await fetch(`${server.url}?query=${encodeURIComponent('{ __typename }')}`, {
    headers: { accept: 'application/json', 'apollo-require-preflight': 'true' },
  });
  expect(await query.json()).toEqual({ data: { __typename: 'Query' } });
  const off = await cluster.start({ EXPLORER: 'false' });
  const none = await fetch(off.url, { headers: html });
  expect(none.status).toBe(400);
  expect(await none.text()).not.toContain('Altair');
});
