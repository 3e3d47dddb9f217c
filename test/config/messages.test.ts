import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { z } from "zod";
import { StackConfig, type ConfigIssue } from "../../infra/config";
import { stackConfigIssues } from "../../infra/stack-config";
import { exampleStackRaw } from "../support/config";

/**
 * Every message the schema can produce points at the right thing and names the fix: no zod default
 * wording ("Too small", "Invalid input", "Invalid option"), no "is required" for a value that is
 * there, and the specific traps users hit (a URL where a host name goes, a name too long rather than
 * badly spelled) told as what they are.
 */

type Path = Array<string | number>;

function setAt(root: unknown, path: Path, value: unknown): unknown {
    if (path.length === 0) return value;
    const [head, ...rest] = path as [string | number, ...Path];
    if (typeof head === "number") {
        const list = Array.isArray(root) ? [...(root as unknown[])] : [];
        list[head] = setAt(list[head], rest, value);
        return list;
    }
    const obj = root !== null && typeof root === "object" && !Array.isArray(root) ? { ...(root as Record<string, unknown>) } : {};
    if (value === undefined && rest.length === 0) delete obj[head];
    else obj[head] = setAt(obj[head], rest, value);
    return obj;
}

const show = (path: Path) => path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").slice(1);

function issuesAt(raw: unknown, path: Path, stack = "dev"): ConfigIssue[] {
    return stackConfigIssues(raw as Record<string, unknown>, stack).filter((i) => i.path === show(path));
}

const dev = () => exampleStackRaw("dev");
const prod = () => exampleStackRaw("prod");

describe("config messages point at the right thing", () => {
    it("a namespace name that is too long is told about its length, not its characters", () => {
        const raw = setAt(dev(), ["access", "namespaces", 0, "name"], "a".repeat(300));
        assert.deepEqual(issuesAt(raw, ["access", "namespaces", 0, "name"]).map((i) => i.message), [
            "is 300 characters; Temporal stores a namespace's name in a VARCHAR(255) column of its database: use at most 255",
        ]);
    });

    it("leafValidityDays 0 names the field and its range", () => {
        const raw = setAt(dev(), ["pki", "leafValidityDays"], 0);
        assert.deepEqual(issuesAt(raw, ["pki", "leafValidityDays"]).map((i) => i.message), ["pki.leafValidityDays must be 1-825 days, got 0"]);
    });

    it("a URL where a host name goes is told to drop the scheme, the path or the port", () => {
        const host = (value: string) => issuesAt(setAt(dev(), ["identity", "uiHost"], value), ["identity", "uiHost"]).map((i) => i.message);
        assert.deepEqual(host("https://temporal.example.com"), ['identity.uiHost is a URL: drop the scheme "https://" and write the host name only, e.g. temporal.example.com']);
        assert.deepEqual(host("temporal.example.com/ui"), ['identity.uiHost has a path ("/ui"): write the host name only, e.g. temporal.example.com']);
        assert.deepEqual(host("temporal.example.com:8443"), ['identity.uiHost has a port (":8443"): write the host name only, e.g. temporal.example.com']);
        assert.deepEqual(host("Temporal.Example.com"), [], "host names are case-insensitive");
        const external = issuesAt(setAt(dev(), ["temporal", "frontendExternalHost"], "grpcs://grpc.example.com:443"), ["temporal", "frontendExternalHost"]);
        assert.deepEqual(external.map((i) => i.message), ['temporal.frontendExternalHost is a URL: drop the scheme "grpcs://" and the port (":443") and write the host name only, e.g. grpc.example.com']);
    });

    it("a value of the wrong type is not reported as missing", () => {
        assert.deepEqual(issuesAt(setAt(dev(), ["azure", "tenantId"], 5), ["azure", "tenantId"]).map((i) => i.message), ["azure.tenantId must be a GUID like 00000000-0000-0000-0000-000000000000, got the number 5"]);
        assert.deepEqual(issuesAt(setAt(dev(), ["azure", "tenantId"], undefined), ["azure", "tenantId"]).map((i) => i.message), ["azure.tenantId is required: give the GUID (e.g. from `az account show --query tenantId`)"]);
    });

    it("says what was given and what is wanted, for types, ranges and choices", () => {
        const at = (path: Path, value: unknown, base = dev()) => issuesAt(setAt(base, path, value), path).map((i) => i.message);
        assert.deepEqual(at(["keyVault", "purgeProtection"], "yes"), ['must be true or false, got the text "yes"']);
        assert.deepEqual(at(["keyVault", "softDeleteRetentionDays"], 7.5), ["must be a whole number, got 7.5"]);
        assert.deepEqual(at(["temporal", "replicas"], 7.5), ["must be a whole number, got 7.5"]);
        assert.deepEqual(at(["temporal", "replicas"], 50), ["must be at most 20, got 50"]);
        assert.deepEqual(at(["keyVault", "publicNetworkAccess"], "enabled"), ['must be one of Enabled, Disabled, got "enabled": write Enabled (the case matters)']);
        assert.deepEqual(at(["pki", "cas"], {}), ["must be a list (YAML items starting with -), got a section (key: value pairs)"]);
        assert.deepEqual(at(["azure"], "westeurope"), ['must be a section (key: value pairs), got the text "westeurope"']);
        assert.deepEqual(at(["access", "grants", 0, "group"], ""), ["must not be empty"]);
        assert.deepEqual(at(["profile"], "Prod"), ['must be one of dev, prod, ephemeral, got "Prod": write prod (the case matters)']);
        assert.deepEqual(at(["profile"], undefined), ["is required: dev, prod or ephemeral (it decides the defaults of everything else)"]);
        assert.deepEqual(at(["pki", "leafValidityDays"], "90"), ['must be a number, got the text "90": write 90 without quotes']);
    });

    it("takes numbers YAML reads from unquoted ids and versions as the strings they are", () => {
        const raw = setAt(setAt(dev(), ["pki", "cas", 0, "id"], 2026), ["database", "postgresVersion"], 16);
        assert.deepEqual(stackConfigIssues(raw as Record<string, unknown>, "dev").filter((i) => i.severity !== "warning"), []);
    });

    it("no field produces zod's default wording or a false 'is required', whatever wrong value it gets", () => {
        const GENERIC = /^(Invalid input|Invalid option|Invalid string|Invalid|Too small|Too big)\b|expected \w+, received \w+/;
        const problems: string[] = [];
        let checked = 0;
        for (const leaf of leaves(StackConfig)) {
            for (const value of wrongValues(leaf.kind)) {
                const base = leaf.path[0] === "kubernetes" && leaf.path[1] === "aks" ? prod() : dev();
                const issues = issuesAt(setAt(base, leaf.path, value), leaf.path, base === dev() ? "dev" : "prod");
                checked++;
                for (const i of issues) {
                    if (GENERIC.test(i.message) || /is required/.test(i.message)) problems.push(`${show(leaf.path)} = ${JSON.stringify(value)}: ${i.message}`);
                }
            }
        }
        assert.ok(checked > 150, `only ${checked} cases`);
        assert.deepEqual(problems, []);
    });
});

type Kind = "string" | "number" | "boolean" | "enum" | "array" | "object";

/** Every field of the schema, with the kind of value it takes (arrays walked through their first item). */
function leaves(schema: z.ZodType, path: Path = []): Array<{ path: Path; kind: Kind }> {
    const def = (schema as unknown as { def: Record<string, unknown> & { type: string } }).def;
    switch (def.type) {
        case "optional":
        case "default":
        case "prefault":
        case "nullable":
            return leaves(def.innerType as z.ZodType, path);
        case "pipe":
            return leaves(def.out as z.ZodType, path);
        case "object": {
            const shape = def.shape as Record<string, z.ZodType>;
            const own = path.length > 0 ? [{ path, kind: "object" as Kind }] : [];
            return [...own, ...Object.entries(shape).flatMap(([k, s]) => leaves(s, [...path, k]))];
        }
        case "array":
            return [{ path, kind: "array" }, ...leaves(def.element as z.ZodType, [...path, 0])];
        case "string":
        case "number":
        case "boolean":
        case "enum":
            return [{ path, kind: def.type as Kind }];
        default:
            throw new Error(`${show(path)}: the walker does not know zod type ${def.type}`);
    }
}

function wrongValues(kind: Kind): unknown[] {
    switch (kind) {
        case "string":
            return [3, true, ["x"]];
        case "number":
            return ["12", -1e15, 1e15, 0.5, true];
        case "boolean":
            return ["yes", 1];
        case "enum":
            return ["bogus", 7];
        case "array":
            return ["x", { a: 1 }];
        case "object":
            return ["x", ["x"]];
    }
}
