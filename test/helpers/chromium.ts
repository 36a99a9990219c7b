// Debian's chromium (apt-get install chromium), headless, driven by playwright-core, which never downloads
// a browser of its own here: executablePath is the system one, and every run gets a fresh profile.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.KUBEPKI_CHROMIUM ?? '/usr/bin/chromium';

export async function launchChromium(t: { after: (fn: () => Promise<void>) => void }, options: { hostResolverRules?: string } = {}): Promise<BrowserContext> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'kubepki-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...(options.hostResolverRules ? [`--host-resolver-rules=${options.hostResolverRules}`] : []),
    ],
  });
  t.after(async () => {
    await context.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
  });
  return context;
}
