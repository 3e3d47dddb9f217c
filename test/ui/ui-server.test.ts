import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { TEMPORAL_UI_IMAGE } from "../../infra/temporal/versions";
import { UI_IGNORED_ENV, UI_READ_ENV } from "../../policies/pack/checks/release";
import { createServerPki } from "../live/support/pki";
import { UPSTREAM_BINARIES } from "../upstream/binaries";
import { goBinary, goSkipReason } from "../upstream/go";
import { goModRequirements, linkedModules, pinDrift } from "../upstream/go-mod";
import { planStack, type PlannedStack } from "../upstream/plan";
import { freePort } from "../upstream/server";
import { configTemplateEnvNames, dockerConfigTemplate, imageEnv, startUiServer, uiServerModule, UiServerExitedError, type TemporalUiServer, type UiServerOptions } from "../upstream/ui-server";
import { ENTRA_ORIGIN, UI_SUBSTITUTIONS, unlistedEnvChanges, usedUiSubstitutions } from "../upstream/ui-substitutions";
import { WEB_CONTAINER_PORT } from "../upstream/web-deployment";
import { entraDirectory, type EntraDirectory } from "./support/directory";
import { startLocalEntra, type LocalEntra } from "./support/entra-provider";

/**
 * The UI server the release runs (ui-server v2.52.0, the `temporalio/ui:2.52.0` image's), built
 * from its module and started with the dev release's web Deployment: what it is, which of the
 * release's variables it reads, what the test changes, and what it does with mistakes. The
 * browser tests (sign-in.test.ts) take it from there.
 */

const skip = goSkipReason();

type Values = Record<string, unknown>;
type EnvVar = { name: string; value: string };

/** Listening TCP sockets on `port` (IPv4 and IPv6) as /proc/net/tcp* lists them: `address:port`. */
function listeners(port: number): string[] {
    const hex = port.toString(16).toUpperCase().padStart(4, "0");
    return ["/proc/net/tcp", "/proc/net/tcp6"].flatMap((file) =>
        readFileSync(file, "utf8")
            .split("\n")
            .slice(1)
            .map((l) => l.trim().split(/\s+/))
            .filter((f) => f[1]?.endsWith(`:${hex}`) && f[3] === "0A")
            .map((f) => f[1]!),
    );
}

const withWebEnv = (change: (env: EnvVar[]) => EnvVar[]) => (values: Values) => {
    const web = values.web as { additionalEnv: EnvVar[] };
    web.additionalEnv = change(web.additionalEnv);
    return values;
};

describe("the Temporal UI server of the dev release", { skip }, () => {
    let plan: PlannedStack;
    let directory: EntraDirectory;
    let entra: LocalEntra;
    let ui: TemporalUiServer;
    let trustPem = "";
    let options: UiServerOptions;

    before(async () => {
        plan = await planStack({ stack: "dev" });
        directory = entraDirectory(plan);
        const web = await createServerPki(["127.0.0.1"]);
        trustPem = web.ca.certPem;
        entra = await startLocalEntra({ directory, tls: web.server });
        // Nothing listens at the frontend address: these tests never reach the server (sign-in.test.ts does).
        options = { frontendAddress: `127.0.0.1:${await freePort()}`, providerOrigin: entra.origin, trustPem };
        ui = await startUiServer(plan, options);
    });

    after(async () => {
        await ui?.stop();
        await entra?.close();
    });

    it("is ui-server at the image's tag, serving the UI its module embeds", async () => {
        const binary = (await goBinary(UPSTREAM_BINARIES.temporalUiServer)).path;
        assert.equal(execFileSync(binary, ["--version"], { encoding: "utf8" }).trim(), `Temporal UI version ${TEMPORAL_UI_IMAGE.tag}`);
        const assets = join(uiServerModule().dir, "ui", "assets", "local");
        const index = readFileSync(join(assets, "index.html"), "utf8");
        const served = await fetch(`${ui.url}/namespaces/payments/workflows`).then((r) => r.text());
        assert.equal(served, index, "every UI route answers with the module's index.html");
        const entry = /"(\/_app\/immutable\/entry\/start\.[\w-]+\.js)"/.exec(index)?.[1] ?? /(\/_app\/immutable\/entry\/[\w.-]+\.js)/.exec(index)?.[1];
        assert.ok(entry, "index.html loads the SvelteKit entry");
        const script = await fetch(`${ui.url}${entry}`).then((r) => r.text());
        assert.equal(script, readFileSync(join(assets, entry), "utf8"), `${entry} is the module's`);
    });

    it("links every dependency at the version ui-server's own go.mod requires", async () => {
        const binary = (await goBinary(UPSTREAM_BINARIES.temporalUiServer)).path;
        const linked = linkedModules(binary);
        assert.ok(linked.size > 30, `go version -m listed ${linked.size} dependencies`);
        const { moved, extra } = pinDrift(linked, goModRequirements(uiServerModule().goMod));
        assert.deepEqual(moved, [], "dependencies moved away from ui-server's go.mod");
        assert.deepEqual(extra, [], "dependencies ui-server's go.mod does not require");
    });

    it("reads every variable the web Deployment sets, through the image's config template", () => {
        const template = dockerConfigTemplate();
        const read = new Set(configTemplateEnvNames(template));
        const image = imageEnv(readFileSync(join(uiServerModule().dir, "Dockerfile"), "utf8"));
        assert.deepEqual(image, { TEMPORAL_CLOUD_UI: "false" });
        const set = Object.keys(ui.releasedEnv).filter((k) => !(k in image));
        assert.deepEqual(set.filter((k) => !read.has(k)), [], "variables the UI server never reads");
        assert.ok(set.includes("TEMPORAL_AUTH_CLIENT_SECRET"), "the client secret comes in through envFrom");
        assert.ok(set.includes("TEMPORAL_ADDRESS"), "the frontend address comes from the chart");
        // The chart's containerPort and probes target 8080: the template's default, which the release keeps.
        assert.match(template, new RegExp(`port: \\{\\{ env "TEMPORAL_UI_PORT" \\| default "${WEB_CONTAINER_PORT}" \\}\\}`));
        assert.equal(ui.releasedEnv.TEMPORAL_UI_PORT, undefined);
        // The policy pack judges web.additionalEnv by the same list.
        assert.deepEqual([...UI_READ_ENV].sort(), [...read].sort());
    });

    it("runs with the release's environment, changed only by the listed substitutions", () => {
        assert.deepEqual(unlistedEnvChanges(ui.releasedEnv, ui.env), []);
        assert.deepEqual(usedUiSubstitutions(ui.releasedEnv, ui.env), UI_SUBSTITUTIONS.filter((x) => x.env.length > 0).map((x) => x.id));
        for (const name of ["TEMPORAL_AUTH_PROVIDER_URL", "TEMPORAL_AUTH_ISSUER_URL"]) {
            assert.ok(ui.releasedEnv[name]?.startsWith(`${ENTRA_ORIGIN}/${directory.tenantId}/v2.0`), `${name} is the tenant's v2 issuer`);
            assert.equal(ui.env[name], `${entra.origin}${ui.releasedEnv[name]!.slice(ENTRA_ORIGIN.length)}`, `${name}: only the origin changes`);
        }
        assert.equal(ui.env.TEMPORAL_AUTH_CALLBACK_URL, `https://${String((plan.values.web as { ingress: { hosts: string[] } }).ingress.hosts[0])}/auth/sso/callback`);
        assert.ok(directory.ui.redirectUris.includes(ui.env.TEMPORAL_AUTH_CALLBACK_URL!), "the callback is a redirect URI of the planned UI registration");
        assert.ok(directory.ui.clientSecrets.includes(ui.env.TEMPORAL_AUTH_CLIENT_SECRET!), "the Secret holds the planned UI registration's client secret");
        assert.equal(ui.env.TEMPORAL_AUTH_CLIENT_ID, directory.ui.clientId);
    });

    it("listens on 127.0.0.1 only, and answers the chart's readiness probe", async () => {
        assert.deepEqual(listeners(ui.port), [`0100007F:${ui.port.toString(16).toUpperCase().padStart(4, "0")}`]);
        assert.equal((await fetch(`${ui.url}${ui.container.readinessPath}`)).status, 200);
    });

    it("ignores TEMPORAL_AUTH_LABEL and TEMPORAL_AUTH_TYPE, which the release therefore does not set", async () => {
        assert.deepEqual(Object.keys(UI_IGNORED_ENV).sort(), ["TEMPORAL_AUTH_LABEL", "TEMPORAL_AUTH_TYPE"]);
        assert.equal(ui.releasedEnv.TEMPORAL_AUTH_LABEL, undefined);
        assert.equal(ui.releasedEnv.TEMPORAL_AUTH_TYPE, undefined);
        const label = "Microsoft Entra ID";
        const other = await startUiServer(plan, {
            ...options,
            values: withWebEnv((env) => [...env, { name: "TEMPORAL_AUTH_LABEL", value: label }, { name: "TEMPORAL_AUTH_TYPE", value: "saml" }]),
        });
        try {
            const settings = await fetch(`${other.url}/api/v1/settings`).then((r) => r.text());
            assert.ok(!settings.includes(label), `the settings the UI renders its sign-in page from carry no label: ${settings.slice(0, 120)}…`);
            const sso = await fetch(`${other.url}/auth/sso`, { redirect: "manual" });
            assert.equal(sso.status, 302);
            assert.ok(sso.headers.get("location")?.startsWith(`${entra.origin}/${directory.tenantId}/oauth2/v2.0/authorize?`), "type saml still signs in with OIDC");
        } finally {
            await other.stop();
        }
    });

    it("HTML-escapes what its config template reads, so every value the release gives it avoids + & ' \" < >", async () => {
        // The template is rendered with html/template: `+` becomes &#43;, `&` &amp;, `'` &#39;.
        const other = await startUiServer(plan, { ...options, values: withWebEnv((env) => [...env.filter((e) => e.name !== "TEMPORAL_DEFAULT_NAMESPACE"), { name: "TEMPORAL_DEFAULT_NAMESPACE", value: "a+b&c'd~e.f_g-h" }]) });
        try {
            const settings = (await fetch(`${other.url}/api/v1/settings`).then((r) => r.json())) as { DefaultNamespace: string };
            assert.equal(settings.DefaultNamespace, "a&#43;b&amp;c&#39;d~e.f_g-h");
        } finally {
            await other.stop();
        }
        // The client secret included: Entra's (and the plan's) use A-Z a-z 0-9 ~ . _ - only; a `+` would reach Entra as &#43; (invalid_client).
        const read = new Set(configTemplateEnvNames(dockerConfigTemplate()));
        const escaped = Object.entries(ui.releasedEnv).filter(([k, v]) => read.has(k) && /[+&'"<>\0]/.test(v)).map(([k]) => k);
        assert.deepEqual(escaped, []);
    });

    it("exits at start when it cannot fetch the provider's discovery document", async () => {
        const closed = `https://127.0.0.1:${await freePort()}`;
        await assert.rejects(
            () => startUiServer(plan, { ...options, providerOrigin: closed }),
            (err: unknown) => err instanceof UiServerExitedError && err.code === 1 && err.logTail.includes(`${closed}/${directory.tenantId}/v2.0/.well-known/openid-configuration`) && /connection refused/.test(err.logTail),
        );
    });

    it("starts with a callback URL that is not http(s), and sends it to the provider as the redirect URI", async () => {
        const callback = "temporal.dev.contoso.example/auth/sso/callback";
        const other = await startUiServer(plan, { ...options, values: withWebEnv((env) => env.map((e) => (e.name === "TEMPORAL_AUTH_CALLBACK_URL" ? { ...e, value: callback } : e))) });
        try {
            const location = (await fetch(`${other.url}/auth/sso`, { redirect: "manual" })).headers.get("location") ?? "";
            assert.equal(new URL(location).searchParams.get("redirect_uri"), callback, "Entra would refuse it at sign-in (AADSTS50011), not the UI server at start");
        } finally {
            await other.stop();
        }
    });
});
