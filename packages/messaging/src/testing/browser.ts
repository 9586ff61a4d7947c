// Test helpers for driving the WebChat surface: headless Chromium through playwright-core, and Microsoft's
// botframework-directlinejs client in Node. Both libraries are test-only (devDependencies of the packages that use
// these helpers); they are loaded when a helper is called, so importing `@greentic/messaging/testing` needs neither.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext } from 'playwright-core';
import WebSocket from 'ws';
import type { Activity } from '../webchat/index.js';

/** The workspace root (this file is `packages/messaging/{src,dist}/testing/browser.*`). */
const WORKSPACE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export interface HeadlessChromium {
  /** A persistent context on a fresh profile directory. */
  context: BrowserContext;
  /** Closes the browser and removes its profile directory. */
  close(): Promise<void>;
}

export interface LaunchChromiumOptions {
  /** Prefix of the temporary profile directory (default `gt-chromium-`). */
  profilePrefix?: string;
  /** Default 820×900. */
  viewport?: { width: number; height: number };
}

/**
 * Launches headless Chromium — Debian's package, which `scripts/ensure-chromium.mjs` installs when it is missing
 * (the first call may take minutes; give the hook a long timeout) — with a persistent context on a fresh profile.
 */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<HeadlessChromium> {
  const executablePath = execFileSync(
    process.execPath,
    [join(WORKSPACE_ROOT, 'scripts', 'ensure-chromium.mjs')],
    {
      encoding: 'utf8',
    },
  ).trim();
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), options.profilePrefix ?? 'gt-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: options.viewport ?? { width: 820, height: 900 },
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  return {
    context,
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

/** The parts of botframework-directlinejs the tests use (it ships RxJS 5 observables). */
export interface DirectLineSubscription {
  unsubscribe(): void;
}
export interface DirectLineObservable<T> {
  subscribe(next: (value: T) => void, error?: (e: unknown) => void): DirectLineSubscription;
}
export interface DirectLineClient {
  activity$: DirectLineObservable<Activity>;
  connectionStatus$: DirectLineObservable<number> & { getValue(): number };
  postActivity(activity: Record<string, unknown>): DirectLineObservable<string>;
  refreshToken(): DirectLineObservable<string>;
  end(): void;
  token: string;
  conversationId: string;
  watermark: string;
}
export type DirectLineCtor = new (options: Record<string, unknown>) => DirectLineClient;
export interface DirectLineModule {
  DirectLine: DirectLineCtor;
  ConnectionStatus: { Online: number; ExpiredToken: number; FailedToConnect: number; Ended: number };
}

/**
 * Loads botframework-directlinejs in Node, after installing the two browser globals it needs when missing:
 * `WebSocket` (from `ws`) and `XMLHttpRequest` (from `xhr2`: its default transport is RxJS 5's `Observable.ajax`,
 * built on XMLHttpRequest).
 */
export function loadDirectLine(): DirectLineModule {
  const require = createRequire(import.meta.url);
  const g = globalThis as Record<string, unknown>;
  g.WebSocket ??= WebSocket;
  g.XMLHttpRequest ??= require('xhr2');
  return require('botframework-directlinejs') as DirectLineModule;
}
