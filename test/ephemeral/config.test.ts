import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parse } from "yaml";
import {
    buildEphemeralConfig,
    ephemeralIssues,
    parseSetFlag,
    parseSetValue,
    REMOVE,
    setAtPath,
    stackFileYaml,
    staleConfigKeys,
    validateEphemeralConfig,
} from "../../scripts/lib/ephemeral/config";
import { toConfigJson, toConfigMap } from "../../scripts/lib/ephemeral/automation";
import { readStackFile, type StackFile } from "../../scripts/lib/plan/run";
import { ConfigError } from "../../infra/config";

const template = (): StackFile => readStackFile("ephemeral");
const build = (...sets: string[]) => buildEphemeralConfig(template(), "ephemeral", sets.map(parseSetFlag));

describe("--set values are typed", () => {
    it("reads booleans, numbers, null, JSON and plain text", () => {
        assert.equal(parseSetValue("p", "true"), true);
        assert.equal(parseSetValue("p", "false"), false);
        assert.equal(parseSetValue("p", "3"), 3);
        assert.equal(parseSetValue("p", "-1.5"), -1.5);
        assert.equal(parseSetValue("p", "null"), REMOVE);
        assert.deepEqual(parseSetValue("p", '["default:read"]'), ["default:read"]);
        assert.deepEqual(parseSetValue("p", '{"name":"orders"}'), { name: "orders" });
        assert.equal(parseSetValue("p", '"2026"'), "2026", "a JSON string keeps digits as text");
        assert.equal(parseSetValue("p", "pr-42.temporal.example.com"), "pr-42.temporal.example.com");
        assert.equal(parseSetValue("p", "007"), "007", "a leading zero is not a number");
        assert.equal(parseSetValue("p", "1m"), "1m");
        assert.equal(parseSetValue("p", ""), "");
    });

    it("names the path when JSON is broken", () => {
        assert.throws(() => parseSetValue("access.namespaces", "[{name: default}]"), {
            name: "UsageError",
            message: /^--set access\.namespaces: the value starts like JSON but is not valid JSON \(.+\); quote it for the shell, e\.g\. --set 'access\.namespaces=\[\{"name":"default"\}\]'$/,
        });
    });
});

describe("--set paths", () => {
    it("address a section of the project's config, with [index] for list items", () => {
        assert.deepEqual(parseSetFlag("identity.uiHost=pr-42.temporal.example.com"), {
            path: "identity.uiHost",
            key: "temporal-azure:identity",
            segments: ["uiHost"],
            value: "pr-42.temporal.example.com",
        });
        assert.deepEqual(parseSetFlag("access.grants[1].permissions[0]=default:read").segments, ["grants", 1, "permissions", 0]);
        assert.deepEqual(parseSetFlag("temporal-azure:temporal.replicas=2"), { path: "temporal-azure:temporal.replicas", key: "temporal-azure:temporal", segments: ["replicas"], value: 2 });
        assert.deepEqual(parseSetFlag("workers=[]"), { path: "workers", key: "temporal-azure:workers", segments: [], value: [] });
        assert.equal(parseSetFlag("identity.uiHost=a=b").value, "a=b", "only the first = splits");
    });

    it("set another namespace's key as a whole", () => {
        assert.deepEqual(parseSetFlag("azure-native:location=northeurope"), { path: "azure-native:location", key: "azure-native:location", segments: [], value: "northeurope" });
        assert.throws(() => parseSetFlag("azure-native:a.b=1"), {
            message: "--set azure-native:a.b: a key of another namespace than temporal-azure is set as a whole (e.g. azure-native:location=westeurope), without a path below it",
        });
    });

    it("refuse a secret, or anything not known to be a plain setting, of another namespace, naming the safe way", () => {
        assert.throws(() => parseSetFlag("azure-native:clientSecret=s3cr3t-value"), {
            name: "UsageError",
            message:
                "--set azure-native:clientSecret: this would store the provider's credential as plain text in the stack's config (and it is already in this command line, the shell history and the process list): give the job the environment variable ARM_CLIENT_SECRET instead, or better ARM_USE_OIDC=true with a federated credential, which needs no secret (docs/ephemeral.md)",
        });
        assert.throws(() => parseSetFlag("azuread:clientCertificatePassword=pw"), { message: /^--set azuread:clientCertificatePassword: this would store the provider's credential as plain text .*: give the job the environment variable ARM_CLIENT_CERTIFICATE_PASSWORD instead/ });
        assert.throws(() => parseSetFlag("kubernetes:kubeconfig=apiVersion: v1"), {
            message:
                "--set kubernetes:kubeconfig: only plain provider settings can be set here (azure-native:location, subscriptionId, tenantId, clientId, environment, ... ; azuread:tenantId, clientId, environment, metadataHost, useOidc, ...; docs/ephemeral.md lists them), because --set writes plain text to the stack's config: put secrets in the job's environment, or set them on the stack with `pulumi config set --secret kubernetes:kubeconfig` reading the value from standard input",
        });
        assert.throws(() => parseSetFlag("temporal-azure:kubeconfig=apiVersion: v1"), {
            message:
                "--set temporal-azure:kubeconfig: the kubeconfig is a secret, and --set writes plain text: an ephemeral stack reaches its cluster through the job's kube context (kubernetes.source ambient, the template's default)",
        });
        for (const plain of ["azure-native:subscriptionId=00000000-0000-0000-0000-000000000000", "azure-native:useOidc=true", "azuread:tenantId=00000000-0000-0000-0000-000000000000"]) {
            assert.doesNotThrow(() => parseSetFlag(plain), plain);
        }
    });

    it("refuse what they cannot mean, verbatim", () => {
        const cases: Array<[string, string]> = [
            ["identity.uiHost", '--set "identity.uiHost" must be <path>=<value>, e.g. --set identity.uiHost=pr-42.temporal.example.com'],
            ["=x", '--set "=x" must be <path>=<value>, e.g. --set identity.uiHost=pr-42.temporal.example.com'],
            ["profile=prod", "--set profile: an ephemeral stack's profile is always ephemeral: remove this --set"],
            ["indentity.uiHost=x", '--set indentity.uiHost: "indentity" is not a section of the stack config (profile, azure, keyVault, pki, identity, access, workers, kubernetes, database, temporal)'],
            [
                "access.grants.[1]=x",
                "--set access.grants.[1]: the path must be dotted field names with [index] for list items, as config errors name them (e.g. identity.uiHost, access.grants[1].permissions)",
            ],
        ];
        for (const [flag, message] of cases) assert.throws(() => parseSetFlag(flag), { name: "UsageError", message }, flag);
    });
});

describe("setAtPath", () => {
    it("replaces, creates and removes without touching the original", () => {
        const original = { a: { b: 1 }, list: [{ x: 1 }, { x: 2 }] };
        assert.deepEqual(setAtPath(original, ["a", "b"], 2, "s.a.b"), { a: { b: 2 }, list: original.list });
        assert.deepEqual(setAtPath(original, ["a", "c", "d"], true, "s.a.c.d"), { a: { b: 1, c: { d: true } }, list: original.list });
        assert.deepEqual(setAtPath(original, ["list", 2, "x"], 3, "s.list[2].x"), { a: { b: 1 }, list: [{ x: 1 }, { x: 2 }, { x: 3 }] });
        assert.deepEqual(setAtPath(original, ["list", 0], REMOVE, "s.list[0]"), { a: { b: 1 }, list: [{ x: 2 }] });
        assert.deepEqual(setAtPath(original, ["a", "b"], REMOVE, "s.a.b"), { a: {}, list: original.list });
        assert.deepEqual(setAtPath(undefined, ["n", 0], "v", "s.n[0]"), { n: ["v"] });
        assert.deepEqual(original, { a: { b: 1 }, list: [{ x: 1 }, { x: 2 }] });
    });

    it("says where a path does not fit the value", () => {
        const root = { uiHost: "h", list: [1] };
        assert.throws(() => setAtPath(root, ["list", 3], 1, "identity.list[3]"), { message: "--set identity.list[3]: identity.list has 1 item, so [3] is past its end: use [1] to append" });
        assert.throws(() => setAtPath(root, ["uiHost", "x"], 1, "identity.uiHost.x"), { message: "--set identity.uiHost.x: identity.uiHost is a string, not an object: it has no field x" });
        assert.throws(() => setAtPath(root, ["uiHost", 0], 1, "identity.uiHost[0]"), { message: "--set identity.uiHost[0]: identity.uiHost is a string, not a list: it has no item [0]" });
        assert.throws(() => setAtPath(root, [0], 1, "identity[0]"), { message: "--set identity[0]: identity is an object, not a list: it has no item [0]" });
    });
});

describe("the ephemeral config", () => {
    it("is the template with the overrides, profile ephemeral", () => {
        const { config, notes } = build("identity.uiHost=pr-42.temporal.example.com", "temporal.replicas=2", "access.grants[1].permissions=[\"default:read\",\"default:write\"]");
        assert.deepEqual(notes, []);
        assert.equal(config["temporal-azure:profile"], "ephemeral");
        assert.equal((config["temporal-azure:identity"] as { uiHost: string }).uiHost, "pr-42.temporal.example.com");
        assert.equal((config["temporal-azure:identity"] as { allowLocalhostCallback: boolean }).allowLocalhostCallback, true, "the rest of the section stays");
        assert.deepEqual(config["temporal-azure:temporal"], { replicas: 2 });
        assert.deepEqual((config["temporal-azure:access"] as { grants: Array<{ permissions: string[] }> }).grants[1]!.permissions, ["default:read", "default:write"]);
        assert.equal(config["azure-native:location"], "westeurope");
        // The template is not changed.
        assert.equal((template().config["temporal-azure:identity"] as { uiHost: string }).uiHost, "temporal.ephemeral.contoso.example");
    });

    it("forces the profile of another template and says so", () => {
        const dev = readStackFile("dev");
        const { config, notes } = buildEphemeralConfig(dev, "dev", []);
        assert.equal(config["temporal-azure:profile"], "ephemeral");
        assert.deepEqual(notes, ["profile is ephemeral (the template says dev)"]);
    });

    it("removes a template's value with null", () => {
        const { config } = build("database.volumeSize=null");
        assert.deepEqual(config["temporal-azure:database"], { kind: "in-cluster" });
    });

    it("refuses a template with secure values, which cannot move to another stack", () => {
        const t: StackFile = { config: { ...template().config, "temporal-azure:kubeconfig": "placeholder" }, secretKeys: ["temporal-azure:kubeconfig"] };
        assert.throws(() => buildEphemeralConfig(t, "mine", []), {
            name: "UsageError",
            message:
                "stacks/Pulumi.mine.yaml has secure values (temporal-azure:kubeconfig), which are encrypted for the stack that wrote them and cannot be copied to an ephemeral stack: use a template without them (an ephemeral stack reaches its cluster through the job's kube context: kubernetes.source ambient)",
        });
    });

    it("validates with parseStackConfig, listing every problem with its path and fix", () => {
        const resolved = validateEphemeralConfig(build().config, "ephemeral-pr-42").config;
        assert.equal(resolved.profile, "ephemeral");
        assert.equal(resolved.keyVault.purgeProtection, false);
        assert.equal(resolved.stack, "ephemeral-pr-42");

        const { config } = build("pki.leafValidityDays=1", "pki.issuer=nope");
        assert.throws(
            () => validateEphemeralConfig(config, "ephemeral-pr-42"),
            (err: unknown) => {
                assert.ok(err instanceof ConfigError);
                assert.equal(
                    err.message,
                    [
                        'Invalid stack config for stack "ephemeral-pr-42" (2 problems):',
                        '  - temporal-azure:pki.issuer: "nope" is not the id of a CA in pki.cas (eph): set it to one of them',
                        "  - temporal-azure:pki.leafValidityDays: 1 days (24 hours) is not longer than the renewal window (pki.earlyRenewalHours 168), so every `pulumi up` would reissue every certificate: raise leafValidityDays above 7 days, or lower earlyRenewalHours (e.g. to a third of the validity, 8)",
                    ].join("\n"),
                );
                return true;
            },
        );
    });

    it("refuses a fixed resource group, which every ephemeral stack would share", () => {
        const message =
            "every ephemeral stack creates and deletes its own resource group (rg-temporal-<stack>), so a fixed name would be shared by all of them: remove it (--set azure.resourceGroupName=null)";
        assert.deepEqual(ephemeralIssues({ azure: { resourceGroupName: "rg-shared" } }), [{ path: "azure.resourceGroupName", message }]);
        assert.deepEqual(ephemeralIssues({ azure: {} }), []);
        const { config } = build("azure.resourceGroupName=rg-shared");
        assert.throws(() => validateEphemeralConfig(config, "ephemeral-x"), { name: "ConfigError", message: `Invalid stack config for stack "ephemeral-x" (1 problem):\n  - temporal-azure:azure.resourceGroupName: ${message}` });
        // With other problems, all are listed at once.
        const both = build("azure.resourceGroupName=rg-shared", "pki.leafValidityDays=1").config;
        assert.throws(() => validateEphemeralConfig(both, "ephemeral-x"), { message: /\(2 problems\):\n {2}- temporal-azure:pki\.leafValidityDays: .*\n {2}- temporal-azure:azure\.resourceGroupName: / });
    });

    it("writes the offline plan's stack file and the Pulumi config from the same map", () => {
        const { config } = build("identity.uiHost=pr-42.temporal.example.com");
        assert.deepEqual(parse(stackFileYaml(config)), { config });
        const json = toConfigJson(config);
        assert.deepEqual(json["temporal-azure:profile"], { value: "ephemeral", secret: false });
        assert.deepEqual(json["temporal-azure:identity"]!.objectValue, config["temporal-azure:identity"]);
        assert.deepEqual(JSON.parse(json["temporal-azure:identity"]!.value), config["temporal-azure:identity"]);
        const map = toConfigMap(config);
        assert.deepEqual(JSON.parse(map["temporal-azure:pki"]!.value), config["temporal-azure:pki"]);
        assert.equal(map["azure-native:location"]!.value, "westeurope");
        assert.ok(Object.values(map).every((v) => v.secret === false));
    });

    it("finds the project's plain keys an earlier run set that this one does not", () => {
        const current = {
            "temporal-azure:profile": { secret: false },
            "temporal-azure:temporal": { secret: false },
            "temporal-azure:kubeconfig": { secret: true },
            "azure-native:subscriptionId": { secret: false },
            "temporal-azure:database": { secret: false },
        };
        assert.deepEqual(staleConfigKeys(current, { "temporal-azure:profile": "ephemeral" }), ["temporal-azure:database", "temporal-azure:temporal"]);
        assert.deepEqual(staleConfigKeys({}, { "temporal-azure:profile": "ephemeral" }), []);
    });
});
