// The chat page in a real browser (Debian's chromium through playwright-core): send a message,
// watch the reply stream in, stop it, reload and find the conversation again.
// Needs /usr/bin/chromium (scripts/install-chromium.sh); RWKV_SKIP_BROWSER_TEST=1 skips it.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';
import { MODEL_NAME, metric, startTestServer, type TestServer } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const skip = process.env.RWKV_SKIP_BROWSER_TEST === '1' && 'RWKV_SKIP_BROWSER_TEST=1';

let server: TestServer;
let browser: BrowserContext;
let profile: string;

before(async () => {
  if (skip) return;
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} not found: run scripts/install-chromium.sh (as root), or set RWKV_SKIP_BROWSER_TEST=1`,
    );
  }
  server = await startTestServer();
  profile = mkdtempSync(join(tmpdir(), 'rwkv-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

test('chat page: streamed reply, stop, conversation kept across a reload', { skip }, async () => {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.getByText('tiny-world').waitFor();

  // A long reply (max tokens 2000) so there is time to stop it. The fixture model is untrained:
  // with a random seed about half its replies end early on the turn separator ("\n\n"), some
  // after 80 tokens (0.4 s), before the test can press Stop. So the page gets a seed whose reply
  // the server first shows to run past LONG_REPLY tokens (seeded sampling repeats exactly).
  const seed = await seedWithLongReply();
  await page.getByText('Settings').click();
  await page.getByLabel('Max tokens').fill('2000');
  await page.getByLabel('Max tokens').dispatchEvent('change');
  await page.getByLabel('Seed').fill(String(seed));
  await page.getByLabel('Seed').dispatchEvent('change');

  const prompt = page.getByLabel('Message');
  await prompt.fill(PROMPT);
  await prompt.press('Enter'); // Enter sends

  const reply = page.locator('.msg.assistant .content').last();
  const stop = page.getByRole('button', { name: 'Stop' });
  // Text arrives while the reply is still running: it is streamed, not delivered at the end.
  await page.waitForFunction(
    () => (document.querySelector('.msg.assistant .content')?.textContent ?? '').length > 20,
  );
  assert.equal(await stop.isEnabled(), true);
  assert.equal(await page.locator('.msg.assistant').last().getAttribute('aria-live'), 'polite');
  const early = (await reply.textContent()) ?? '';
  await page.waitForFunction(
    (n) => (document.querySelector('.msg.assistant .content')?.textContent ?? '').length > n,
    early.length,
  );

  await stop.click();
  await page.getByRole('status').filter({ hasText: 'Stopped.' }).waitFor();
  assert.equal(await stop.isDisabled(), true);
  assert.equal(await page.getByRole('button', { name: 'Send' }).isEnabled(), true);
  const stopped = (await reply.textContent()) ?? '';
  assert.ok(stopped.length > early.length);
  // The server freed the slot.
  const deadline = Date.now() + 5000;
  while ((await metric(server.url, 'rwkv_active_slots')) > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(await metric(server.url, 'rwkv_active_slots'), 0);

  await page.reload();
  await page.locator('.msg.user .content').first().waitFor();
  assert.equal(await page.locator('.msg.user .content').first().textContent(), PROMPT);
  assert.equal(await page.locator('.msg.assistant .content').last().textContent(), stopped);
  assert.equal(await page.locator('.msg.assistant .note').last().textContent(), 'Stopped.');
  assert.equal(await page.getByLabel('Max tokens').inputValue(), '2000');
  assert.equal(await page.getByLabel('Seed').inputValue(), String(seed));

  await page.getByRole('button', { name: 'New chat' }).click();
  assert.equal(await page.locator('.msg').count(), 0);
  await page.reload();
  await page.getByText('No messages yet').waitFor();
  assert.equal(await page.locator('.msg').count(), 0);
});

const PROMPT = 'Tell me a long story.';
const LONG_REPLY = 400;

/** The first seed for which the page's request (same message, default sampling) is still running
 *  after LONG_REPLY tokens; asked of the server through the API, as the page will ask it. */
async function seedWithLongReply(): Promise<number> {
  for (let seed = 1; seed <= 40; seed++) {
    const res = await server.client.chat.completions.create({
      model: MODEL_NAME,
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: LONG_REPLY,
      seed,
    });
    if (res.choices[0]?.finish_reason === 'length') return seed;
  }
  throw new Error(`no seed in 1..40 gives a reply of ${LONG_REPLY} tokens from the fixture model`);
}
