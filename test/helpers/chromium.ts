import { existsSync } from "node:fs";
import { chromium, type CDPSession, type Page as PlaywrightPage } from "playwright-core";

/**
 * Debian's headless Chromium, driven by playwright-core (which downloads no browser of its own).
 * Undefined where Chromium is not installed; the browser tests then skip.
 */
export const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => existsSync(path));

export interface Page {
  /** The playwright page, for real input (`fill`, `click`): clicks carry the user activation a popup needs. */
  page: PlaywrightPage;
  /** A DevTools session of this page only, for what playwright sets per context (e.g. going offline). */
  cdp: CDPSession;
  /** Console messages and uncaught exceptions of the page, for failure messages. */
  logs: string[];
  /** Loads `url` (following redirects) and waits for its load event. */
  navigate(url: string): Promise<void>;
  /** Evaluates an expression in the page (promises awaited) and returns its value. */
  evaluate<T>(expression: string): Promise<T>;
  /** Writes a PNG of the viewport to `path`. */
  screenshot(path: string): Promise<void>;
}

export interface Browser {
  /** A new tab of `width` × `height` CSS pixels; every tab shares one profile (cookies included). */
  newPage(options?: { width?: number; height?: number }): Promise<Page>;
  close(): Promise<void>;
}

async function wrap(page: PlaywrightPage): Promise<Page> {
  const logs: string[] = [];
  page.on("console", (message) => logs.push(`console.${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => logs.push(`exception: ${error.message.slice(0, 500)}`));
  const cdp = await page.context().newCDPSession(page);
  return {
    page,
    cdp,
    logs,
    async navigate(url) {
      await page.goto(url, { waitUntil: "load" });
    },
    evaluate: <T>(expression: string): Promise<T> => page.evaluate<T>(expression),
    async screenshot(path) {
      await page.screenshot({ path });
    },
  };
}

/** Starts headless Chromium with a fresh profile (playwright removes it on close). */
export async function launchChromium(executable: string): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: executable,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const context = await browser.newContext();
  return {
    async newPage({ width = 1280, height = 800 } = {}) {
      const page = await context.newPage();
      await page.setViewportSize({ width, height });
      return wrap(page);
    },
    async close() {
      await context.close();
      await browser.close();
    },
  };
}
