// Debian's chromium driven by playwright-core, for the tests of what a browser sees.
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Why browser tests are skipped here (no browser), or false; in CI a missing browser is an error. */
export function browserMissing(): string | false {
  // .ci/run installs Debian's chromium; on a developer's machine without it the test says how to get it.
  const missing = existsSync(CHROMIUM) ? false : `no browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`;
  if (missing && process.env.CI) throw new Error(missing);
  return missing;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}
