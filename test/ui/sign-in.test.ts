import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Client } from "@temporalio/client";
import type { BrowserContext, Page } from "playwright-core";
import { readStackFile } from "../../scripts/lib/plan/run";
import { goSkipReason } from "../upstream/go";
import { planStack } from "../upstream/plan";
import { connect } from "../upstream/server";
import { browserSkipReason } from "./support/browser";
import { apiRolesOf, type EntraAccount } from "./support/directory";
import type { TokenResponse } from "./support/entra-provider";
import { jwtClaims, screenshot, signIn, SIGN_IN_BUTTON } from "./support/pages";
import { startUiStack, type UiStack } from "./support/stack";

/**
 * Signing in to the Web UI of the dev release, end to end: the real UI server (ui-server 2.52.0)
 * with the web Deployment's environment and Secrets, the real Temporal server (1.31.2) of the
 * same release, a local Entra ID tenant built from the planned app registrations and
 * assignments (oidc-provider), and Debian's Chromium. Each step leaves a screenshot in out/ui/.
 *
 * The access map is the dev example's plus one user, reader@…, assigned `payments:read` and
 * `temporal-system:read`: UI 2.52.0 loads the cluster's info (GetClusterInfo, a cluster-scope call
 * under the default authorizer) on every page and sends the user back to its sign-in page when
 * that is refused, so a user with namespace roles only cannot use it (the second test shows it on
 * the example's own `payments:read` group). `temporal-system:read` is the least that lets a user
 * in, and it reads every namespace.
 */

const skip = goSkipReason() ?? browserSkipReason();

const READER = "reader@contoso.example";
const WORKFLOW_ID = "charge-42";

function devAccessWithReader(): Record<string, unknown> {
    const access = structuredClone(readStackFile("dev").config["temporal-azure:access"]) as { grants: Record<string, unknown>[] };
    access.grants.push({ user: READER, permissions: ["payments:read", "temporal-system:read"] });
    return access;
}

describe("signing in to the Web UI of the dev release", { skip }, () => {
    let s: UiStack;
    let workflowRunId = "";
    const contexts: BrowserContext[] = [];
    let readerPage: Page;

    const account = (pick: (a: EntraAccount) => boolean, what: string) => {
        const found = s.directory.accounts.find(pick);
        assert.ok(found, `the directory has ${what}`);
        return found;
    };
    const newPage = async () => {
        const context = await s.browser.browser.newContext({ viewport: { width: 1280, height: 800 } });
        contexts.push(context);
        const page = await context.newPage();
        page.setDefaultTimeout(30_000);
        return page;
    };
    const tokensOf = (login: string): TokenResponse[] => s.entra.tokenResponses.filter((t) => t.login === login);
    const callsWith = (token: TokenResponse) => s.tap.calls.filter((c) => c.authorization === `Bearer ${token.accessToken}`);
    /** The payments worker's view of the workflow (its app-only token, its planned client certificate). */
    const describeWorkflow = async () => {
        const worker = s.plan.principals.find((p) => p.label === "worker:payments-worker");
        const secret = s.plan.secrets["payments/payments-worker"];
        assert.ok(worker?.clientId && secret, "the plan has the payments worker and its Secret");
        const token = await s.entra.appToken(worker.clientId, worker.objectId, worker.roles);
        const connection = await connect(s.server.addresses.frontend, { ca: secret["ca.crt"] ?? "", cert: secret["tls.crt"] ?? "", key: secret["tls.key"] ?? "" }, s.server.serverNames.frontend, token);
        return { client: new Client({ connection, namespace: "payments" }), connection };
    };

    before(async () => {
        const plan = await planStack({ stack: "dev", config: { "temporal-azure:access": devAccessWithReader() } });
        s = await startUiStack(plan);
        console.log(`[ui] server ${s.server.version} up in ${s.server.startMs} ms, UI server in ${s.ui.startMs} ms; provider ${s.entra.issuer}`);
        const { client, connection } = await describeWorkflow();
        try {
            const handle = await client.workflow.start("ChargeCard", { taskQueue: "payments", workflowId: WORKFLOW_ID, args: [] });
            workflowRunId = handle.firstExecutionRunId;
        } finally {
            await connection.close();
        }
    });

    after(async () => {
        for (const c of contexts) await c.close().catch(() => undefined);
        await s?.stop();
    });

    it("stops a user with no assignment at the sign-in page (a reproduction of Entra's assignment-required rule, AADSTS50105) and issues no token", async () => {
        // A reproduction of Entra's rule, not Entra: the provider refuses users with no app-role
        // assignment on a service principal with appRoleAssignmentRequired (both of the stack's).
        const outsider = account((a) => a.login.startsWith("outsider@"), "a user with no assignment");
        assert.equal(s.directory.ui.assignmentRequired, true, "the UI's service principal requires assignment");
        const page = await newPage();
        await signIn(page, `${s.ingress.url}/`, outsider.login, "01-outsider-sign-in");
        const error = await page.locator("#error-code").innerText();
        await screenshot(page, "02-outsider-refused");
        assert.match(error, /^AADSTS50105: The signed in user 'outsider@[^']+' is not assigned to a role for the application '[0-9a-f-]{36}'\(Temporal UI \(dev\)\)/);
        assert.ok(page.url().startsWith(s.entra.origin), `the user stays at the provider (${page.url()})`);
        assert.deepEqual(tokensOf(outsider.login), [], "no token was issued");
        assert.deepEqual(s.entra.signIns.find((x) => x.login === outsider.login)?.outcome, "AADSTS50105");
        await page.goto(`${s.ingress.url}/`);
        await page.getByRole("button", { name: SIGN_IN_BUTTON }).waitFor();
        assert.match(page.url(), /\/login\?returnUrl=/, "the UI has no session for them");
    });

    it("signs in a member of the group assigned payments:read only, whom UI 2.52.0 then sends back to its sign-in page: GetClusterInfo needs a temporal-system role", async () => {
        const member = account((a) => JSON.stringify(apiRolesOf(s.directory, a)) === JSON.stringify(["orders:read", "payments:read"]), "the dev group member");
        const page = await newPage();
        await signIn(page, `${s.ingress.url}/`, member.login);
        await page.waitForURL((u) => u.href.startsWith(`${s.ingress.url}/login?`));
        await page.getByRole("button", { name: SIGN_IN_BUTTON }).waitFor();
        await screenshot(page, "03-namespace-reader-sent-back");
        const [token] = tokensOf(member.login);
        assert.ok(token, "Entra issued the member tokens: the sign-in itself worked");
        const clusterInfo = callsWith(token).find((c) => c.method === "GetClusterInfo");
        assert.ok(clusterInfo, `the UI called GetClusterInfo with the member's token (calls: ${callsWith(token).map((c) => c.method).join(", ")})`);
        assert.equal(clusterInfo.grpcStatus, 7, "PermissionDenied");
        assert.equal(clusterInfo.grpcMessage, "Request unauthorized.");
    });

    it("signs in a user assigned payments:read and temporal-system:read, who lands on the first declared namespace and sees the workflow the test started", async () => {
        readerPage = await newPage();
        await signIn(readerPage, `${s.ingress.url}/`, READER, "04-reader-sign-in");
        await readerPage.waitForURL(`${s.ingress.url}/namespaces/payments/workflows`);
        const link = readerPage.getByRole("link", { name: WORKFLOW_ID });
        await link.waitFor();
        await screenshot(readerPage, "05-reader-payments-workflows");
        await readerPage.getByText("1 Workflow", { exact: true }).waitFor();
        assert.match((await link.getAttribute("href")) ?? "", new RegExp(`/namespaces/payments/workflows/${WORKFLOW_ID}/${workflowRunId}`));
    });

    it("the server received the API's access token as the bearer token, never the ID token", () => {
        const [token] = tokensOf(READER);
        assert.ok(token?.idToken, "the provider issued the reader an access token and an ID token");
        const calls = s.tap.calls.filter((c) => c.authorization !== undefined && callsWith(token).includes(c));
        assert.ok(calls.some((c) => c.method === "ListWorkflowExecutions" && c.grpcStatus === 0), `the workflow list came from the server (${calls.map((c) => `${c.method}:${c.grpcStatus}`).join(", ")})`);
        assert.deepEqual(
            s.tap.calls.filter((c) => c.authorization === `Bearer ${token.idToken}`),
            [],
            "no call carried the ID token as bearer",
        );
        const access = jwtClaims(token.accessToken);
        const web = new X509Certificate(s.webTls.cert).subject.match(/CN=([^\n]+)/)?.[1];
        assert.deepEqual(
            { aud: access.aud, iss: access.iss, tid: access.tid, azp: access.azp, scp: access.scp, ver: access.ver, roles: access.roles },
            {
                aud: s.directory.api.clientId,
                iss: s.entra.issuer,
                tid: s.directory.tenantId,
                azp: s.directory.ui.clientId,
                scp: s.directory.api.scope.value,
                ver: "2.0",
                roles: ["payments:read", "temporal-system:read"],
            },
        );
        assert.equal(access.aud, (s.plan.values.server as { config: { authorization: { audience: string } } }).config.authorization.audience, "the audience the release's server checks");
        for (const c of calls) {
            // ui-server forwards the ID token too, as `authorization-extras`; the default claim mapper reads only `authorization`.
            assert.equal(c.authorizationExtras, token.idToken, `${c.method} carried the ID token only as authorization-extras`);
            assert.equal(c.clientCertificateCN, web, `${c.method} came with the UI's planned client certificate`);
        }
        assert.equal(jwtClaims(token.idToken).aud, s.directory.ui.clientId, "the ID token is for the UI");
        assert.ok(s.entra.jwksFetches() >= 1, "the server verified it with the keys it fetched from the provider (jwtKeyProvider)");
        assert.match(s.ui.log(), /\[Auth\] Validating ID token from Authorization-Extras header/, "the UI server checked the ID token, whose audience is its own client id");
    });

    it("refuses the reader's Terminate with the server's PermissionDenied, shown in the UI's dialog", async () => {
        const page = readerPage;
        await page.getByRole("link", { name: WORKFLOW_ID }).click();
        await page.getByRole("button", { name: "More Actions" }).click();
        await page.getByRole("menuitem", { name: /Terminate/ }).click();
        const dialog = page.locator("[data-testid=terminate-confirmation-modal]:visible");
        await dialog.locator("#workflow-termination-reason").fill("UI sign-in test");
        await dialog.getByRole("button", { name: "Terminate" }).click();
        await dialog.getByText("Request unauthorized.").waitFor();
        await screenshot(page, "06-reader-terminate-refused");
        const [token] = tokensOf(READER);
        assert.ok(token);
        const terminate = callsWith(token).filter((c) => c.method === "TerminateWorkflowExecution");
        assert.deepEqual(terminate.map((c) => [c.grpcStatus, c.grpcMessage]), [[7, "Request unauthorized."]]);
        const { client, connection } = await describeWorkflow();
        try {
            assert.equal((await client.workflow.getHandle(WORKFLOW_ID).describe()).status.name, "RUNNING", "the workflow still runs");
        } finally {
            await connection.close();
        }
        await dialog.getByTestId("cancel-modal-button").click();
    });

    it("sign-out ends the UI's session (cookies, stored tokens, refresh) but not the Entra session: Continue to SSO signs the same user in again without asking", async () => {
        const page = readerPage;
        const context = page.context();
        const names = async () => (await context.cookies(s.ingress.url)).map((c) => c.name).sort();
        const refresh = (await context.cookies(s.ingress.url)).find((c) => c.name === "refresh");
        // Behind the Ingress's TLS termination the UI server sees plain HTTP, so it leaves Secure off
        // (it sets Secure only when it terminates TLS itself); HttpOnly and SameSite=Strict hold.
        assert.deepEqual(refresh && { httpOnly: refresh.httpOnly, sameSite: refresh.sameSite, secure: refresh.secure }, { httpOnly: true, sameSite: "Strict", secure: false }, "signed in, the UI holds a refresh token");
        await page.getByTestId("user-menu-trigger").click();
        await page.getByRole("menuitem", { name: "Log out" }).click();
        await page.waitForURL((u) => u.href.startsWith(`${s.ingress.url}/login`));
        await page.getByRole("button", { name: SIGN_IN_BUTTON }).waitFor();
        await screenshot(page, "07-reader-signed-out");
        assert.deepEqual((await names()).filter((n) => n === "refresh" || /^user\d+$/.test(n) || n === "session_start"), []);
        assert.equal(await page.evaluate("localStorage.getItem('AuthUser')"), "{}", "the UI's stored tokens are gone");
        const statuses = await page.evaluate(async () => [(await fetch("/api/v1/namespaces")).status, (await fetch("/auth/refresh")).status]);
        assert.deepEqual(statuses, [401, 401], "the API and the refresh endpoint refuse the signed-out browser");

        const signIns = s.entra.signIns.length;
        const tokens = tokensOf(READER).length;
        await page.getByRole("button", { name: SIGN_IN_BUTTON }).click();
        await page.waitForURL(`${s.ingress.url}/namespaces/payments/workflows`);
        await page.getByRole("link", { name: WORKFLOW_ID }).waitFor();
        await screenshot(page, "08-reader-back-without-sign-in");
        assert.equal(s.entra.signIns.length, signIns, "the provider asked nobody to sign in");
        assert.equal(tokensOf(READER).length, tokens + 1, "it issued the same user new tokens from its session");
        console.log(`[ui] largest Cookie header ${s.ingress.largestCookieHeader()} bytes; largest response header block ${JSON.stringify(s.ingress.largestResponseHeaders())}`);
    });
});
