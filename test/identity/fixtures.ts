import { execFileSync } from "node:child_process";
import type { ResolvedConfig } from "../../infra/config";
import { parseStackConfig } from "../../infra/stack-config";
import { exampleStackRaw } from "../support/config";

/** Tenant of the sample stack (the engine's default identity, so emulated ids agree). */
export const TENANT_ID = "11111111-2222-3333-4444-555555555555";
export const OIDC_ISSUER = `https://westeurope.oic.prod-aks.azure.com/${TENANT_ID}/3f2a1c0e-5b6d-4e7f-8a9b-0c1d2e3f4a5b/`;

/**
 * The sample access map: every kind of principal (group by name and by object id, users, a worker
 * on AKS and one elsewhere), cluster and namespace permissions, several per principal.
 */
export function sampleRaw(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    const raw = exampleStackRaw("dev");
    return {
        ...raw,
        access: {
            namespaces: [{ name: "payments" }, { name: "orders" }, { name: "billing" }],
            grants: [
                { group: "Temporal Platform Admins", permissions: ["temporal-system:admin"] },
                { group: "8D3C4A57-1F5E-4F0B-9A51-3F1C2B7D9E10", permissions: ["payments:read", "orders:read"] },
                { group: "Billing Operators", permissions: ["billing:admin", "temporal-system:read"] },
                { user: "alice@contoso.example", permissions: ["payments:write"] },
                { user: "Bob@Contoso.example", permissions: ["orders:write", "billing:read"] },
                { worker: "payments-worker", permissions: ["payments:write", "payments:worker"] },
                { worker: "orders-worker", permissions: ["orders:write"] },
            ],
        },
        workers: [
            { name: "payments-worker", runsOn: "external", kubernetesNamespace: "payments", temporalNamespace: "payments" },
            { name: "orders-worker", runsOn: "aks", kubernetesNamespace: "orders", serviceAccount: "orders-sa", temporalNamespace: "orders" },
        ],
        kubernetes: { ...(raw.kubernetes as object), oidcIssuerUrl: OIDC_ISSUER },
        ...overrides,
    };
}

export function sampleConfig(stack = "dev", overrides: Record<string, unknown> = {}): ResolvedConfig {
    return parseStackConfig(sampleRaw(overrides), stack);
}

/**
 * A real self-signed client certificate (what the PKI would issue a worker), valid for `days` days,
 * made by the openssl CLI so the test's certificate does not come from the code under test.
 */
export function clientCertificatePem(commonName: string, days = 90): string {
    return execFileSync(
        "openssl",
        ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "/dev/null", "-subj", `/CN=${commonName}`, "-days", String(days), "-addext", "extendedKeyUsage=clientAuth"],
        { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
    );
}

/** notBefore / notAfter as openssl prints them, as RFC 3339 instants. */
export function opensslValidity(pem: string): { startDate: string; endDate: string } {
    const out = execFileSync("openssl", ["x509", "-noout", "-startdate", "-enddate"], { input: pem, encoding: "utf8" });
    const field = (name: string) => new Date(/^(?:notBefore|notAfter)=(.*)$/m.exec(out.split("\n").find((l) => l.startsWith(name)) ?? "")?.[1] ?? "").toISOString().replace(/\.\d{3}Z$/, "Z");
    return { startDate: field("notBefore"), endDate: field("notAfter") };
}
