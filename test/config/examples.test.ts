import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, exampleStackRaw } from "../support/config";

/**
 * Examples, tests and docs use an obviously fictitious tenant: a reader copies what the examples
 * say, and a real organisation's tenant id (Microsoft's was used before) points tokens, JWKS URLs and
 * app registrations at someone else's directory.
 */

/** The tenant of every example: a GUID no directory has, recognisable at a glance. */
const FICTITIOUS_TENANT_ID = "11111111-2222-3333-4444-555555555555";

/** Tenant ids of real organisations that have been seen in examples: Microsoft's corporate and services tenants, the consumer (MSA) tenant. */
const REAL_TENANTS = ["72f988bf-86f1-41af-91ab-2d7cd011db47", "f8cdef31-a31e-4b4a-93e4-5f571e91255a", "9188040d-6c67-4c5b-b112-36a304b66dad"];

/** This file names the real tenants to look for. */
const THIS_FILE = "test/config/examples.test.ts";

describe("example tenant ids", () => {
    it("every example stack uses the fictitious tenant", () => {
        for (const stack of ["dev", "prod", "ephemeral"]) assert.equal((exampleStackRaw(stack).azure as { tenantId: string }).tenantId, FICTITIOUS_TENANT_ID, stack);
    });

    it("no tracked file names a real organisation's tenant", () => {
        const files = execFileSync("git", ["ls-files", "-z"], { cwd: REPO_ROOT, encoding: "utf8" }).split("\0").filter((f) => f !== "" && !/\.(sum|png|jpg)$/.test(f) && f !== "package-lock.json" && f !== THIS_FILE);
        assert.ok(files.length > 100, `only ${files.length} tracked files`);
        const found = files.flatMap((f) => {
            const text = readFileSync(join(REPO_ROOT, f), "utf8").toLowerCase();
            return REAL_TENANTS.filter((t) => text.includes(t)).map((t) => `${f}: ${t}`);
        });
        assert.deepEqual(found, []);
    });
});
