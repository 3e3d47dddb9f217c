import { join } from "node:path";
import type { GoBinarySpec } from "./go";

/**
 * Every binary the test suite builds from upstream Go modules, in one place. `npm test` builds them
 * all before the test files run (`npm run build:upstream`), so a cold build prints its progress once
 * instead of inside a test's timeout; a test that needs one asks `goBinary()` for it, which takes it
 * from the cache.
 */
export const UPSTREAM_BINARIES = {
    /** The server the `temporalio/server:1.31.2` image runs: go.temporal.io/server v1.31.2's own cmd/server. */
    temporalServer: { name: "temporal-server", pkg: "go.temporal.io/server/cmd/server" },
    /** The GitHub Actions workflow linter the workflow tests run: a module of its own (test/workflows), so it moves none of the server's versions. */
    actionlint: { name: "actionlint", pkg: "github.com/rhysd/actionlint/cmd/actionlint", moduleDir: join(__dirname, "..", "workflows") },
    /** The authorization oracle (./oracle): v1.31.2's own claim mapper, key provider, authorizer and interceptor, one call per stdin line. */
    authorizationOracle: { name: "temporal-authz-oracle", pkg: "./oracle" },
    /**
     * The server the `temporalio/ui:2.52.0` image runs: github.com/temporalio/ui-server/v2 v2.52.0's
     * own cmd/server, with the UI's assets embedded. A module of its own (`ui-server/`): in one module
     * Go's version selection would take the higher of each shared dependency, moving the server's
     * go.temporal.io/api (v1.62.8 → v1.62.14) and the UI's grpc-gateway, urfave/cli, x/net and eight
     * others, so neither binary would be the one its image ships.
     */
    temporalUiServer: { name: "temporal-ui-server", pkg: "github.com/temporalio/ui-server/v2/cmd/server", moduleDir: join(__dirname, "ui-server") },
    /** The replication-stream probe (./replication-probe): opens AdminService/StreamWorkflowReplicationMessages as a remote cluster would and prints what arrives. */
    replicationProbe: { name: "temporal-replication-probe", pkg: "./replication-probe" },
} as const satisfies Record<string, GoBinarySpec>;
