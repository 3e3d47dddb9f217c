/**
 * Every version the Temporal release runs, pinned in one place. Changing one is a reviewed change
 * of this file, never a floating tag: `latest` would silently change the server under a running
 * cluster (and its schema with it).
 */

/** The official chart, installed with `helm.v3.Release` so its hooks (the schema job) run. */
export const TEMPORAL_CHART = {
    name: "temporal",
    version: "1.6.0",
    repository: "https://go.temporal.io/helm-charts",
} as const;

/** Temporal server 1.31.2: the version chart 1.6.0 ships, and the one the auth facts were read from. */
export const TEMPORAL_SERVER_IMAGE = { repository: "temporalio/server", tag: "1.31.2" } as const;

/** Admin tools (schema job, namespace job, admin pod): same release as the server. */
export const TEMPORAL_ADMIN_TOOLS_IMAGE = { repository: "temporalio/admin-tools", tag: "1.31.2" } as const;

/** The Web UI server: the chart's default 2.52.0, pinned here so a chart bump cannot move it unseen. */
export const TEMPORAL_UI_IMAGE = { repository: "temporalio/ui", tag: "2.52.0" } as const;

