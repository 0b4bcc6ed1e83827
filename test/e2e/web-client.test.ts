import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { ParleyServer } from '../../src/app/server';
import { TestCluster } from '../support/server';
import { eventually } from '../support/wait';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium';

/**
 * The web client (src/web) end to end: built with Vite, served by real Parley instances, driven
 * in headless Chromium (Debian's, `.ci/run` installs it) by two browser contexts, one per user.
 */

const repo = join(__dirname, '../..');
const SCREENSHOTS = join(repo, 'test/screenshots/web');
const WAIT_MS = 15_000;

let webDir: string;
let browser: Browser;

beforeAll(() => {
  // The client as the server serves it, built from this checkout into a folder of this run.
  webDir = mkdtempSync(join(tmpdir(), 'parley-web-'));
  execFileSync(
    process.execPath,
    [
      join(repo, 'node_modules/vite/bin/vite.js'),
      'build',
      '--config',
      'src/web/vite.config.ts',
      '--outDir',
      webDir,
      '--emptyOutDir',
      '--logLevel',
      'warn',
    ],
    { cwd: repo, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } },
  );
  mkdirSync(SCREENSHOTS, { recursive: true });
}, 60_000);

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  if (webDir) rmSync(webDir, { recursive: true, force: true });
});

/** A user in a browser context of their own. */
interface Person {
  username: string;
  displayName: string;
  context: BrowserContext;
  page: Page;
}

const suffix = () => randomBytes(3).toString('hex');

async function signUp(
  baseUrl: string,
  displayName: string,
  viewport: { width: number; height: number },
  shot?: string,
) {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce' });
  const page = await context.newPage();
  const username = `${displayName.toLowerCase()}_${suffix()}`;
  await page.goto(baseUrl);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('correct-horse-battery');
  await page.getByLabel('Display name').fill(displayName);
  if (shot) await page.screenshot({ path: join(SCREENSHOTS, shot) });
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: 'New conversation' }).waitFor();
  return { username, displayName, context, page };
}

const log = (p: Person) => p.page.getByRole('log', { name: 'Messages' });
const bodies = (p: Person) => log(p).locator('.bubble:not(.pending) .body').allTextContents();

/** Waits until `text` is a message in the open conversation of `p`. */
const shows = (p: Person, text: string) =>
  log(p).locator('.bubble .body', { hasText: text }).first().waitFor({ timeout: WAIT_MS });

async function send(p: Person, text: string) {
  await p.page.getByRole('textbox', { name: 'Message' }).fill(text);
  await p.page.getByRole('button', { name: 'Send' }).click();
}

/**
 * Alice (desktop) starts a conversation with Bob (a 360 px wide phone); they chat live both ways,
 * Bob sees Alice typing, Alice sees "Seen by Bob".
 */
async function meetAndChat(urlA: string, urlB: string, shots: boolean): Promise<[Person, Person]> {
  const alice = await signUp(urlA, 'Alice', { width: 1100, height: 720 }, shots ? 'sign-up.png' : undefined);
  const bob = await signUp(urlB, 'Bob', { width: 360, height: 740 });

  await alice.page.getByRole('button', { name: 'New conversation' }).click();
  await alice.page.getByRole('searchbox', { name: 'Find people' }).fill(bob.username.slice(0, 6));
  await alice.page.getByRole('button', { name: 'Bob', exact: true }).click();
  await alice.page.getByRole('button', { name: 'Start chat' }).click();
  await send(alice, 'Hi Bob, lunch today?');
  await shows(alice, 'Hi Bob, lunch today?');

  // Bob sees the conversation appear in his list, live, and opens it.
  const conversations = bob.page.getByRole('list', { name: 'Conversations' });
  await conversations.getByRole('button', { name: /Alice/ }).click();
  await shows(bob, 'Hi Bob, lunch today?');
  await send(bob, 'Sure, 12:30 at the usual place');
  await shows(alice, 'Sure, 12:30 at the usual place');

  // Bob read Alice's message with the conversation on screen.
  await alice.page.getByText('Seen by Bob').waitFor({ timeout: WAIT_MS });

  // Alice types "See you there", then keeps typing, as a person does (the client renews setTyping
  // every 3 s while keys come), until Bob sees it. The whole phrase is typed before the check: the
  // message is sent as soon as Bob sees the indicator, which on a busy machine can be after the
  // first key, and "S" alone would never show as "See you there".
  const box = alice.page.getByRole('textbox', { name: 'Message' });
  await box.pressSequentially('See you there');
  const words = ', I will bring the tickets and the umbrellas '.split('');
  await eventually(
    async () => {
      await box.press(words.shift() ?? '.');
      return bob.page.getByText('Alice is typing…').isVisible();
    },
    WAIT_MS,
    'Bob sees Alice typing',
    250,
  );
  if (shots) {
    await alice.page.screenshot({ path: join(SCREENSHOTS, 'chat-desktop.png') });
    await bob.page.screenshot({ path: join(SCREENSHOTS, 'chat-phone.png') });
  }
  await alice.page.getByRole('button', { name: 'Send' }).click();
  await shows(bob, 'See you there');
  await bob.page.getByText('Alice is typing…').waitFor({ state: 'hidden', timeout: WAIT_MS });

  // A phone-sized screen: the message box and Send are on screen, nothing scrolls sideways.
  // (A string: this file is compiled without the DOM library.)
  expect(await bob.page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(360);
  for (const name of ['Message', 'Send']) {
    const box = await bob.page.getByRole(name === 'Send' ? 'button' : 'textbox', { name }).boundingBox();
    expect(box && box.x >= 0 && box.x + box.width <= 360 && box.y + box.height <= 740).toBe(true);
  }
  return [alice, bob];
}

/** Bob sends three messages; Alice, once back, shows each of them once, in order, after what she had. */
async function sendThreeWhileAway(alice: Person, bob: Person): Promise<string[]> {
  const missed = [1, 2, 3].map((i) => `while you were away ${i} ${suffix()}`);
  for (const text of missed) {
    await send(bob, text);
    await shows(bob, text);
  }
  return missed;
}

async function expectShownOnceInOrder(alice: Person, missed: string[]) {
  await shows(alice, missed[2]);
  const all = await bodies(alice);
  expect(all.filter((b) => missed.includes(b))).toEqual(missed);
  expect(all.slice(-3)).toEqual(missed);
  expect(new Set(all).size).toBe(all.length);
}

/**
 * An embedded instance (child process) serving the built client, for the enclosing describe.
 * @returns its base URL (ending in `/`), readable once the describe's tests run.
 */
function servedEmbedded(): { url: string } {
  const server = { url: '' };
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    cluster = await TestCluster.create({ embedded: true });
    const child = await cluster.startChild({ WEB_DIR: webDir });
    server.url = child.url.replace(/graphql$/, '');
  }, 60_000);
  afterAll(() => cluster?.stop());
  return server;
}

describe('web client on the embedded default', () => {
  const server = servedEmbedded();

  it('serves the client at / and keeps /graphql and /healthz', async () => {
    const page = await fetch(`${server.url}c/anything`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    expect((await fetch(`${server.url}healthz`)).status).toBe(200);
    const gql = await fetch(`${server.url}graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await gql.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('two people chat live; a page that was closed shows what it missed once, in order', async () => {
    const [alice, bob] = await meetAndChat(server.url, server.url, true);
    try {
      const conversationUrl = alice.page.url();
      await alice.page.close();
      const missed = await sendThreeWhileAway(alice, bob);
      alice.page = await alice.context.newPage();
      await alice.page.goto(conversationUrl);
      await expectShownOnceInOrder(alice, missed);
    } finally {
      await Promise.all([alice.context.close(), bob.context.close()]);
    }
  }, 90_000);
});

/** Alice (desktop) starts a direct conversation with Bob and says `text`; Bob stays on his list. */
async function aliceWritesToBob(url: string, text: string): Promise<[Person, Person]> {
  const desktop = { width: 1100, height: 720 };
  const [alice, bob] = await Promise.all([signUp(url, 'Alice', desktop), signUp(url, 'Bob', desktop)]);
  await alice.page.getByRole('button', { name: 'New conversation' }).click();
  await alice.page.getByRole('searchbox', { name: 'Find people' }).fill(bob.username);
  await alice.page.getByRole('button', { name: 'Bob', exact: true }).click();
  await alice.page.getByRole('button', { name: 'Start chat' }).click();
  await send(alice, text);
  await shows(alice, text);
  return [alice, bob];
}

describe('web client: notifications and blocking', () => {
  const server = servedEmbedded();

  it('the bell counts a message Bob was not looking at; opening it opens the conversation', async () => {
    const [alice, bob] = await aliceWritesToBob(server.url, 'Are you there?');
    try {
      // Bob is on his list, not in the conversation: the server notifies him, live.
      const bell = bob.page.getByRole('button', { name: /^Notifications, \d+ unread$/ });
      await bell.waitFor({ timeout: WAIT_MS });
      await bell.click();
      const item = bob.page
        .getByRole('list', { name: 'Notification list' })
        .getByRole('button', { name: 'Alice: Are you there?' });
      await item.waitFor({ timeout: WAIT_MS });
      await bob.page.screenshot({ path: join(SCREENSHOTS, 'notifications.png') });
      await item.click();
      await shows(bob, 'Are you there?');
      expect(bob.page.url()).toBe(alice.page.url()); // the same #/c/<id>
      // Opened: its notifications are read, and the count is gone.
      await bob.page.getByRole('button', { name: 'Notifications', exact: true }).waitFor({ timeout: WAIT_MS });
    } finally {
      await Promise.all([alice.context.close(), bob.context.close()]);
    }
  }, 90_000);

  it('Alice blocks Bob: his send is refused with a message and kept; unblocking lets it through', async () => {
    const [alice, bob] = await aliceWritesToBob(server.url, 'Hello Bob');
    try {
      await bob.page.getByRole('list', { name: 'Conversations' }).getByRole('button', { name: /Alice/ }).click();
      await shows(bob, 'Hello Bob');

      await alice.page.getByRole('button', { name: 'Block Bob', exact: true }).click();
      await alice.page.getByRole('button', { name: 'Unblock Bob', exact: true }).waitFor({ timeout: WAIT_MS });
      await alice.page.getByRole('button', { name: 'Blocked people (1)' }).click();
      await alice.page.getByRole('list', { name: 'Blocked people' }).getByText('Bob').waitFor();

      await send(bob, 'Did I say something wrong?');
      const refusal = log(bob).getByRole('alert');
      await refusal.waitFor({ timeout: WAIT_MS });
      expect(await refusal.textContent()).toContain('You cannot message this person');
      await bob.page.screenshot({ path: join(SCREENSHOTS, 'blocked.png') });

      // Unblocked (from the list of blocked people), Bob's retry of the same text goes through once.
      await alice.page
        .getByRole('list', { name: 'Blocked people' })
        .getByRole('button', { name: 'Unblock Bob', exact: true })
        .click();
      await alice.page.getByRole('button', { name: 'Block Bob', exact: true }).waitFor({ timeout: WAIT_MS });
      await log(bob).getByRole('button', { name: 'Retry' }).click();
      await shows(alice, 'Did I say something wrong?');
      await eventually(async () => (await log(bob).getByRole('alert').count()) === 0, WAIT_MS, 'refusal gone');
      expect((await bodies(bob)).filter((b) => b === 'Did I say something wrong?')).toHaveLength(1);
    } finally {
      await Promise.all([alice.context.close(), bob.context.close()]);
    }
  }, 90_000);
});

describe('web client on two instances', () => {
  let cluster: TestCluster;
  let a: ParleyServer;
  let b: ParleyServer;
  const base = (s: ParleyServer) => s.url.replace(/graphql$/, '');
  beforeAll(async () => {
    cluster = await TestCluster.create();
    [a, b] = [await cluster.start({ WEB_DIR: webDir }), await cluster.start({ WEB_DIR: webDir })];
  }, 60_000);
  afterAll(() => cluster?.stop());

  it('a page whose instance restarts shows "Reconnecting…", then exactly the messages it missed', async () => {
    const [alice, bob] = await meetAndChat(base(a), base(b), false);
    try {
      // Alice's instance goes away (its sockets close with 1001) while Bob, on the other, sends three.
      const port = new URL(a.url).port;
      const status = alice.page.getByRole('status');
      await a.stop();
      cluster.servers.splice(cluster.servers.indexOf(a), 1);
      await eventually(async () => (await status.textContent()) === 'Reconnecting…', WAIT_MS, 'Reconnecting… shown');
      const missed = await sendThreeWhileAway(alice, bob);
      await alice.page.screenshot({ path: join(SCREENSHOTS, 'reconnecting.png') });

      a = await cluster.start({ WEB_DIR: webDir, PORT: port });
      await expectShownOnceInOrder(alice, missed);
      await eventually(async () => (await status.textContent()) === '', WAIT_MS, 'reconnected');
      // And live again.
      await send(bob, 'back online?');
      await shows(alice, 'back online?');
    } finally {
      await Promise.all([alice.context.close(), bob.context.close()]);
    }
  }, 90_000);
});
