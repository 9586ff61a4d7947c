// The WebChat page in headless Chromium (Debian's package, installed by scripts/ensure-chromium.mjs when missing):
// a person types, reads the bot's answer, uses an Adaptive Card, and the page falls back to polling without
// WebSockets. A screenshot is kept in test-artifacts/webchat/.
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChannelMessageEnvelope } from '@greentic/types';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HeadlessChromium, launchChromium } from '../../src/testing/index.js';
import { type BotMessage, startWebChat, type WebChat } from '../../src/webchat/index.js';
import { weatherCard } from './helpers.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
const ARTIFACTS = join(ROOT, 'test-artifacts', 'webchat');

function bot(envelope: ChannelMessageEnvelope): BotMessage[] {
  const id = `${envelope.id}:0`;
  const action = envelope.metadata?.action;
  if (action === 'forecast') {
    const city = envelope.metadata?.city || 'Paris';
    return [{ id, text: `You chose forecast for **${city}** (${envelope.metadata?.units})` }];
  }
  if (action !== undefined) return [{ id, text: `Unknown action ${action}` }];
  if (envelope.text?.toLowerCase() === 'weather')
    return [{ id, text: 'Here is the weather:', card: weatherCard() }];
  return [{ id, text: `echo: ${envelope.text ?? ''}` }];
}

let browser: HeadlessChromium;
let context: BrowserContext;
let chat: WebChat;

beforeAll(async () => {
  browser = await launchChromium({ profilePrefix: 'gt-webchat-chromium-' });
  context = browser.context;
  chat = await startWebChat({ bot, page: { title: 'Weather chat' }, botAccount: { name: 'Weather bot' } });
}, 600_000); // the first run may install Chromium with apt

afterAll(async () => {
  await browser?.close();
  await chat?.close();
});

/** A fresh page that records console errors and uncaught exceptions (a CSP violation shows up there). */
async function openPage(init?: string): Promise<{ page: Page; problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  if (init) await page.addInitScript(init);
  await page.goto(chat.url);
  return { page, problems };
}

async function say(page: Page, text: string) {
  const box = page.getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
}

describe('the WebChat page in Chromium', () => {
  it('chats over the WebSocket: text, an Adaptive Card, and a card submit routed to the bot', async () => {
    const { page, problems } = await openPage();
    await expect.poll(() => page.locator('body').getAttribute('data-connection')).toBe('online');
    await expect.poll(() => page.title()).toBe('Weather chat');
    await expect.poll(() => page.evaluate(() => document.activeElement?.id)).toBe('gt-input');

    await say(page, 'hello there');
    const echo = page.locator('.gt-from-bot', { hasText: 'echo: hello there' });
    await echo.waitFor();
    await expect.poll(() => page.locator('.gt-from-user').last().textContent()).toContain('hello there');
    await expect.poll(() => page.locator('.gt-pending').count()).toBe(0);
    expect(await page.getByLabel('Message').inputValue()).toBe('');

    await say(page, 'weather');
    const card = page.locator('.ac-card');
    await card.waitFor();
    expect(await card.getByRole('heading', { name: 'Weather' }).count()).toBe(1);
    expect(await card.locator('.ac-factset dt').allTextContents()).toEqual(['Paris', 'Wind']);
    expect(await card.locator('.ac-columnset .ac-column').count()).toBe(2);
    await card.getByLabel('Another city').fill('Lisbon');
    await card.getByLabel('Units').selectOption('metric');
    await card.getByRole('button', { name: 'Show forecast' }).click();
    await page.locator('.gt-from-bot', { hasText: 'You chose forecast for Lisbon (metric)' }).waitFor();
    // Markdown: the city is bold in the answer.
    expect(await page.locator('.gt-from-bot strong', { hasText: 'Lisbon' }).count()).toBe(1);
    // The submit is not shown as a user bubble: two user messages, three bot messages.
    expect(await page.locator('.gt-from-user').count()).toBe(2);
    expect(await page.locator('.gt-from-bot').count()).toBe(3);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'webchat.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('keeps the conversation across a reload of the tab', async () => {
    const { page } = await openPage();
    await expect.poll(() => page.locator('body').getAttribute('data-connection')).toBe('online');
    await say(page, 'remember me');
    await page.locator('.gt-from-bot', { hasText: 'echo: remember me' }).waitFor();
    type Exposed = { greenticWebChat: { client: { conversationId: string } } };
    const conversationId = () =>
      page.evaluate(() => (window as unknown as Exposed).greenticWebChat.client.conversationId);
    const before = await conversationId();
    await page.reload();
    await page.locator('.gt-from-bot', { hasText: 'echo: remember me' }).waitFor();
    expect(await conversationId()).toBe(before);
    await page.close();
  });

  it('falls back to polling when WebSockets do not work', async () => {
    // A WebSocket that never connects, as behind a proxy that blocks upgrades.
    const { page, problems } = await openPage(`
      window.WebSocket = class {
        constructor() { setTimeout(() => this.onclose?.({ code: 1006 }), 10); }
        close() {}
        send() {}
      };
    `);
    await expect
      .poll(() => page.locator('body').getAttribute('data-connection'), { timeout: 10_000 })
      .toBe('polling');
    await say(page, 'over http');
    await page.locator('.gt-from-bot', { hasText: 'echo: over http' }).waitFor();
    expect(problems).toEqual([]);
    await page.close();
  });
});
