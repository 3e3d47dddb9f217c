import { createHash, randomBytes, randomUUID } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import Provider, { errors, type Configuration, type KoaContextWithOIDC } from "oidc-provider";
import { accountByLogin, apiRolesOf, assignmentsOf, type EntraAccount, type EntraDirectory } from "./directory";

/**
 * A local OpenID provider that behaves, for the Temporal UI, like the Entra ID tenant the stack
 * plans: `oidc-provider` (panva's certified OpenID Connect implementation) configured from the
 * planned directory, on loopback, over HTTPS.
 *
 * - Endpoints have Entra's v2 shape: issuer `https://<host>/<tenant>/v2.0`, discovery under it,
 *   `/<tenant>/oauth2/v2.0/{authorize,token,logout}`, keys at `/<tenant>/discovery/v2.0/keys`.
 * - The UI registration is the one client: its planned client id, client secret and redirect URIs
 *   (a redirect URI it does not list is refused, as Entra refuses it with AADSTS50011).
 * - Scopes are Entra's: the OIDC scopes plus `api://<api client id>/<scope>` of the API
 *   registration, which makes the access token one FOR the API: `aud` = the API's client id, `scp`
 *   the scope's value, `roles` the user's app-role values on the API (own and groups'), `tid`,
 *   `oid`, `azp` = the UI's client id, `ver` "2.0", `iat`/`nbf` backdated five minutes. The ID token
 *   is for the UI (`aud` = the UI's client id).
 * - Consent: the UI is pre-authorized on the API's scope and the OIDC scopes are consented for the
 *   tenant (what the stack's `ApplicationPreAuthorized` and delegated grant do); anything else
 *   would need a consent this provider does not give (AADSTS65001).
 * - Assignment required: reproduces Entra's rule for service principals with
 *   `appRoleAssignmentRequired` (both of the stack's): a user with no app-role assignment on the UI
 *   (directly or through a group), or none on the API when the API's scope is asked for, is
 *   stopped at the sign-in page with AADSTS50105 and no code or token is issued.
 *
 * Its keys sign real RS256 tokens; the JWKS is also served over plain HTTP on a second loopback
 * port for the Temporal server, whose harness cannot be told to trust this provider's certificate.
 * The login page is this file's own (a user name, no password: what is tested is what happens
 * after Entra authenticated someone).
 */

export interface TokenResponse {
    /** The account the tokens were issued to. */
    login: string;
    grantType: string;
    accessToken: string;
    idToken?: string;
    refreshToken?: string;
    scope: string;
}

export interface SignInAttempt {
    login: string;
    /** `signed-in`, or the AADSTS code that stopped the user. */
    outcome: string;
    message?: string;
}

export interface LocalEntra {
    directory: EntraDirectory;
    /** `https://127.0.0.1:<port>/<tenant>/v2.0`. */
    issuer: string;
    /** `https://127.0.0.1:<port>`: what replaces `https://login.microsoftonline.com`. */
    origin: string;
    /** The tenant's key set over plain HTTP (for the Temporal server's `jwtKeyProvider`). */
    jwksUrl: string;
    /** What the token endpoint returned, in order (secrets: only ever compared, never printed). */
    tokenResponses: TokenResponse[];
    signIns: SignInAttempt[];
    /** How often the key set was fetched over the HTTP port. */
    jwksFetches(): number;
    /** An app-only token as Entra issues a daemon with client credentials (`azp` = its client id, `oid` = `sub`, roles, no `scp`). */
    appToken(clientId: string, objectId: string, roles: string[]): Promise<string>;
    close(): Promise<void>;
}

export interface LocalEntraOptions {
    directory: EntraDirectory;
    /** The HTTPS certificate (for 127.0.0.1) and its key. */
    tls: { certPem: string; keyPem: string };
}

const ENTRA_TOKEN_BACKDATE_S = 300;
const OIDC_SCOPES = "openid profile email offline_access";

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
    return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>
body{font-family:Segoe UI,Helvetica,Arial,sans-serif;background:#f2f2f2;margin:0}
main{background:#fff;max-width:440px;margin:60px auto;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:24px;font-weight:600;margin:0 0 16px}p{font-size:15px;line-height:1.4}
input{width:100%;font-size:15px;padding:6px 0;border:0;border-bottom:1px solid #666;margin:8px 0 24px}
button{background:#0067b8;color:#fff;border:0;padding:8px 32px;font-size:15px;float:right}
.brand{font-size:13px;color:#5e5e5e;margin-bottom:12px}.error{color:#e81123}
</style></head><body><main><div class="brand">Local Entra ID (test)</div>${body}</main></body></html>`;
}

/** Entra's sign-in error page: the user stays at the provider. */
function errorPage(code: string, message: string): string {
    return page("Sign in", `<h1>Sign in</h1><p>Sorry, but we’re having trouble signing you in.</p><p class="error" id="error-code">${escapeHtml(code)}: ${escapeHtml(message)}</p>`);
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** Entra's `sub` is pairwise: one value per user and application. */
function pairwiseSubject(objectId: string, appClientId: string): string {
    return createHash("sha256").update(`${objectId}/${appClientId}`).digest("base64url").slice(0, 43);
}

export async function startLocalEntra(options: LocalEntraOptions): Promise<LocalEntra> {
    const dir = options.directory;
    const { tenantId } = dir;
    const apiScope = `${dir.api.identifierUri}/${dir.api.scope.value}`;
    const kid = `local-entra-${randomUUID().slice(0, 8)}`;
    const { privateKey } = await generateKeyPair("RS256", { extractable: true });
    const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" };

    const httpsServer = https.createServer({ cert: options.tls.certPem, key: options.tls.keyPem });
    await new Promise<void>((resolve) => httpsServer.listen(0, "127.0.0.1", resolve));
    const origin = `https://127.0.0.1:${(httpsServer.address() as AddressInfo).port}`;
    const issuer = `${origin}/${tenantId}/v2.0`;

    const byObjectId = (id: string): EntraAccount | undefined => dir.accounts.find((a) => a.objectId === id);
    const tokenResponses: TokenResponse[] = [];
    /** Nonces of authorization requests that asked for offline_access. */
    const offlineAccessNonces = new Set<string>();
    const signIns: SignInAttempt[] = [];

    const configuration: Configuration = {
        clients: [
            {
                client_id: dir.ui.clientId,
                client_secret: dir.ui.clientSecrets[0] ?? "",
                client_name: dir.ui.displayName,
                redirect_uris: dir.ui.redirectUris,
                response_types: ["code"],
                grant_types: ["authorization_code", "refresh_token"],
                token_endpoint_auth_method: "client_secret_basic",
            },
        ],
        jwks: { keys: [privateJwk] },
        cookies: { keys: [randomBytes(32).toString("base64url")] },
        routes: {
            authorization: "/oauth2/v2.0/authorize",
            token: "/oauth2/v2.0/token",
            jwks: "/discovery/v2.0/keys",
            end_session: "/oauth2/v2.0/logout",
            userinfo: "/openid/userinfo",
            revocation: "/oauth2/v2.0/revoke",
            introspection: "/oauth2/v2.0/introspect",
        },
        claims: { openid: ["sub", "oid", "tid", "ver"], profile: ["name", "preferred_username"], email: ["email"] },
        // Entra puts the profile claims in the ID token itself.
        conformIdTokenClaims: false,
        findAccount: (_ctx, id) => {
            const account = byObjectId(id);
            if (!account) return undefined;
            return {
                accountId: account.objectId,
                claims: () => ({ sub: account.objectId, oid: account.objectId, tid: tenantId, ver: "2.0", name: account.displayName, preferred_username: account.login, email: account.login }),
            };
        },
        interactions: { url: (_ctx, interaction) => `/${tenantId}/login/${interaction.uid}` },
        features: {
            devInteractions: { enabled: false },
            resourceIndicators: {
                enabled: true,
                // Entra takes the resource from the scope's prefix: `api://<client id>/<scope>`.
                defaultResource: (ctx) => (String(ctx.oidc.params?.scope ?? "").split(" ").some((s) => s.startsWith(`${dir.api.identifierUri}/`)) ? dir.api.identifierUri : undefined) as string,
                useGrantedResource: () => true,
                getResourceServerInfo: (_ctx, resource) => {
                    if (resource !== dir.api.identifierUri) throw new errors.InvalidTarget(`AADSTS500011: the resource principal named ${resource} was not found in the tenant ${tenantId}`);
                    return { scope: apiScope, audience: dir.api.clientId, accessTokenTTL: 3600, accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } };
                },
            },
        },
        // Entra issues a refresh token whenever offline_access was asked for; oidc-provider, following
        // OpenID Connect Core, drops offline_access unless prompt=consent (which the UI never sends).
        issueRefreshToken: (_ctx, client, code) => client.grantTypeAllowed("refresh_token") && offlineAccessNonces.has(String((code as { nonce?: string }).nonce)),
        // Entra does not require PKCE of a confidential web client (the UI server sends none).
        pkce: { required: () => false },
        ttl: { AccessToken: 3600, IdToken: 3600, AuthorizationCode: 600, RefreshToken: 86_400, Interaction: 3600, Session: 86_400, Grant: 86_400 },
        loadExistingGrant: async (ctx) => {
            const { oidc } = ctx;
            const clientId = oidc.client?.clientId ?? "";
            const existing = oidc.session?.grantIdFor(clientId);
            if (existing) return oidc.provider.Grant.find(existing);
            if (!oidc.session?.accountId) return undefined;
            const grant = new oidc.provider.Grant({ clientId, accountId: oidc.session.accountId });
            grant.addOIDCScope(OIDC_SCOPES);
            if (clientId === dir.ui.clientId && dir.ui.preAuthorizedScopeIds.includes(dir.api.scope.id)) grant.addResourceScope(dir.api.identifierUri, apiScope);
            await grant.save();
            return grant;
        },
        formats: {
            customizers: {
                jwt: (_ctx, token, jwt) => {
                    const p = jwt.payload as Record<string, unknown>;
                    const account = byObjectId(String((token as { accountId?: string }).accountId ?? ""));
                    if (!account) throw new Error("an access token without a known account");
                    const granted = String(p.scope ?? "")
                        .split(" ")
                        .filter((s) => s.startsWith(`${dir.api.identifierUri}/`))
                        .map((s) => s.slice(dir.api.identifierUri.length + 1));
                    const roles = apiRolesOf(dir, account);
                    const iat = Number(p.iat) - ENTRA_TOKEN_BACKDATE_S;
                    jwt.header = { typ: "JWT" };
                    jwt.payload = {
                        aud: dir.api.clientId,
                        iss: issuer,
                        iat,
                        nbf: iat,
                        exp: p.exp,
                        azp: p.client_id,
                        azpacr: "1",
                        name: account.displayName,
                        oid: account.objectId,
                        preferred_username: account.login,
                        ...(roles ? { roles } : {}),
                        scp: granted.join(" "),
                        sub: pairwiseSubject(account.objectId, dir.api.clientId),
                        tid: tenantId,
                        uti: p.jti,
                        ver: "2.0",
                    };
                },
            },
        },
        renderError: (ctx, out) => {
            ctx.type = "html";
            const description = String(out.error_description ?? "");
            const code = /redirect_uri/.test(description) ? "AADSTS50011" : /^AADSTS\d+/.exec(description)?.[0] ?? String(out.error);
            ctx.body = errorPage(code, description.replace(/^AADSTS\d+: /, ""));
        },
    };
    const provider = new Provider(issuer, configuration);
    // Record what the token endpoint hands the UI server.
    provider.use(async (ctx: KoaContextWithOIDC, next: () => Promise<void>) => {
        await next();
        const body = ctx.body as Record<string, unknown> | undefined;
        if (ctx.oidc?.route !== "token" || ctx.status !== 200 || typeof body?.access_token !== "string") return;
        const oid = JSON.parse(Buffer.from(body.access_token.split(".")[1] ?? "", "base64url").toString("utf8")).oid as string;
        tokenResponses.push({
            login: byObjectId(oid)?.login ?? oid,
            grantType: String(ctx.oidc.params?.grant_type ?? ""),
            accessToken: body.access_token,
            ...(typeof body.id_token === "string" ? { idToken: body.id_token } : {}),
            ...(typeof body.refresh_token === "string" ? { refreshToken: body.refresh_token } : {}),
            scope: String(body.scope ?? ""),
        });
    });
    const callback = provider.callback();

    /** Hands a request to the provider as `path` (+ its query), mounted at `/<tenant>`: the provider derives its endpoints' URLs from that mount. */
    const toProvider = (req: http.IncomingMessage, res: http.ServerResponse, path: string) => {
        const query = (req.url ?? "").includes("?") ? (req.url ?? "").slice((req.url ?? "").indexOf("?")) : "";
        (req as http.IncomingMessage & { originalUrl?: string }).originalUrl = `/${tenantId}${path}${query}`;
        req.url = `${path}${query}`;
        void callback(req, res);
    };

    const login = async (req: http.IncomingMessage, res: http.ServerResponse) => {
        const html = (status: number, body: string) => res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }).end(body);
        let details: Awaited<ReturnType<Provider["interactionDetails"]>>;
        try {
            details = await provider.interactionDetails(req, res);
        } catch (err) {
            return html(400, errorPage("AADSTS90014", `the sign-in session was not found (${(err as Error).message})`));
        }
        if (details.prompt.name !== "login") {
            return html(400, errorPage("AADSTS65001", `the user or administrator has not consented to use the application with ID '${String(details.params.client_id)}' (${details.prompt.reasons.join(", ")})`));
        }
        const form = (error?: string) =>
            page(
                "Sign in to your account",
                `<h1>Sign in</h1><p>to continue to ${escapeHtml(dir.ui.displayName)}</p>${error ? `<p class="error" id="error-code">${escapeHtml(error)}</p>` : ""}` +
                    `<form method="post" action="/${tenantId}/login/${details.uid}"><input name="login" id="login" type="email" placeholder="Email, phone, or Skype" autofocus><button type="submit" id="next">Sign in</button></form>`,
            );
        if (req.method !== "POST") return html(200, form());
        const name = (await readForm(req)).get("login") ?? "";
        const account = accountByLogin(dir, name);
        if (!account) {
            signIns.push({ login: name, outcome: "AADSTS50034" });
            return html(200, form(`AADSTS50034: The user account ${name} does not exist in the ${tenantId} directory.`));
        }
        // Entra's assignment-required rule, for the UI (the client signing in) and the API (the resource asked for).
        const scopes = String(details.params.scope ?? "").split(" ");
        const apps = [
            { name: dir.ui.displayName, clientId: dir.ui.clientId, sp: dir.ui.servicePrincipalObjectId, required: dir.ui.assignmentRequired, asked: true },
            { name: "the Temporal API", clientId: dir.api.clientId, sp: dir.api.servicePrincipalObjectId, required: dir.api.assignmentRequired, asked: scopes.includes(apiScope) },
        ];
        for (const app of apps) {
            if (app.asked && app.required && !assignmentsOf(dir, account, app.sp)) {
                const message = `The signed in user '${account.login}' is not assigned to a role for the application '${app.clientId}'(${app.name}).`;
                signIns.push({ login: account.login, outcome: "AADSTS50105", message });
                return html(200, errorPage("AADSTS50105", message));
            }
        }
        signIns.push({ login: account.login, outcome: "signed-in" });
        await provider.interactionFinished(req, res, { login: { accountId: account.objectId } }, { mergeWithLastSubmission: false });
    };

    httpsServer.on("request", (req, res) => {
        const path = new URL(req.url ?? "/", origin).pathname;
        if (path.startsWith(`/${tenantId}/login/`)) {
            login(req, res).catch((err: unknown) => res.writeHead(500).end(String(err)));
        } else if (path === `/${tenantId}/v2.0/.well-known/openid-configuration`) {
            toProvider(req, res, "/.well-known/openid-configuration");
        } else if (path.startsWith(`/${tenantId}/`)) {
            const query = new URL(req.url ?? "/", origin).searchParams;
            if (path === `/${tenantId}/oauth2/v2.0/authorize` && (query.get("scope") ?? "").split(" ").includes("offline_access")) offlineAccessNonces.add(query.get("nonce") ?? "");
            toProvider(req, res, path.slice(tenantId.length + 1));
        } else {
            res.writeHead(404).end();
        }
    });

    let fetches = 0;
    const jwksPath = `/${tenantId}/discovery/v2.0/keys`;
    const httpServer = http.createServer((req, res) => {
        if (new URL(req.url ?? "/", "http://x").pathname !== jwksPath) return void res.writeHead(404).end();
        fetches++;
        toProvider(req, res, jwksPath.slice(tenantId.length + 1));
    });
    await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));

    const signingKey = privateKey as CryptoKey;
    return {
        directory: dir,
        issuer,
        origin,
        jwksUrl: `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}${jwksPath}`,
        tokenResponses,
        signIns,
        jwksFetches: () => fetches,
        appToken: (clientId, objectId, roles) => {
            const now = Math.floor(Date.now() / 1000) - ENTRA_TOKEN_BACKDATE_S;
            return new SignJWT({ aud: dir.api.clientId, iss: issuer, iat: now, nbf: now, exp: now + 3600, azp: clientId, azpacr: "2", oid: objectId, sub: objectId, roles, tid: tenantId, uti: randomUUID(), ver: "2.0" })
                .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
                .sign(signingKey);
        },
        close: async () => {
            httpsServer.closeAllConnections();
            httpServer.closeAllConnections();
            await Promise.all([new Promise((r) => httpsServer.close(r)), new Promise((r) => httpServer.close(r))]);
        },
    };
}
