import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Page } from "playwright-core";

/**
 * What the sign-in tests do in the browser, in the UI's and the provider's own words (the button
 * and field names they render), and where the screenshots go.
 */

/** Screenshots of every step: a gitignored folder (`out/` is ignored) a reviewer can open after a run. */
export const ARTIFACTS = resolve(__dirname, "..", "..", "..", "out", "ui");

export async function screenshot(page: Page, name: string): Promise<string> {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = join(ARTIFACTS, `${name}.png`);
    await page.screenshot({ path });
    return path;
}

/** The claims of a JWT (decoded, not verified: the tests compare them with what was issued). */
export function jwtClaims(token: string): Record<string, unknown> {
    return JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString("utf8")) as Record<string, unknown>;
}

/** UI 2.52.0's sign-in page: one button (its text is fixed, whatever TEMPORAL_AUTH_LABEL says). */
export const SIGN_IN_BUTTON = "Continue to SSO";

/**
 * Opens `url` in the UI, takes the UI's sign-in button to the provider, and signs in there as
 * `login`; resolves once the provider has answered the sign-in (wherever that leads).
 */
export async function signIn(page: Page, url: string, login: string, shot?: string): Promise<void> {
    await page.goto(url);
    await page.getByRole("button", { name: SIGN_IN_BUTTON }).click();
    await page.waitForURL(/\/login\/[^/]+$/);
    await page.locator("#login").fill(login);
    if (shot) await screenshot(page, shot);
    await Promise.all([page.waitForLoadState("load"), page.locator("#next").click()]);
}
