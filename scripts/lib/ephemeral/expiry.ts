import { UsageError } from "../live/errors";
import { isEphemeralStack } from "./names";

/**
 * When an ephemeral stack expires, and which stacks the scheduled clean-up (`reap`) destroys. The
 * expiry is a stack tag, so it lives in the Pulumi backend beside the stack (Pulumi Cloud, and DIY
 * backends since CLI 3.211) and every job that can list the stacks can read it.
 */

/** Read by the policy pack: an ephemeral stack's vault may go without purge protection. */
export const PROFILE_TAG = "temporal-azure:profile";
/** ISO 8601 time (UTC) after which `reap` destroys the stack. */
export const EXPIRES_TAG = "temporal-azure:expires";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
export const DEFAULT_TTL = "24h";
/** Shorter and the clean-up job could destroy a stack while its first deployment still runs. */
export const MIN_TTL_MS = HOUR;
/** Longer and it is not a test stack any more. */
export const MAX_TTL_MS = 30 * DAY;

/** `--ttl`: days, hours and minutes, e.g. 24h, 90m, 3d, 1d12h. */
export function parseTtl(text: string): number {
    const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?$/.exec(text.trim());
    if (!m || text.trim() === "") throw new UsageError(`--ttl ${JSON.stringify(text)} must be a duration like 24h, 90m, 3d or 1d12h`);
    const ms = Number(m[1] ?? 0) * DAY + Number(m[2] ?? 0) * HOUR + Number(m[3] ?? 0) * MINUTE;
    if (ms < MIN_TTL_MS) throw new UsageError(`--ttl ${text} is shorter than 1h: the clean-up job could destroy the stack while it is still being deployed`);
    if (ms > MAX_TTL_MS) throw new UsageError(`--ttl ${text} is longer than 30d: a stack that lives that long should be a dev stack, not an ephemeral one`);
    return ms;
}

/** The expires tag's value: UTC, whole seconds. */
export function expiryTime(now: Date, ttlMs: number): string {
    return new Date(Math.floor((now.getTime() + ttlMs) / 1000) * 1000).toISOString().replace(".000Z", "Z");
}

/** `2d 4h`, `3h 12m`, `45m`: the two largest units. */
export function formatDuration(ms: number): string {
    const total = Math.max(0, Math.round(ms / MINUTE));
    const parts: Array<[number, string]> = [
        [Math.floor(total / (24 * 60)), "d"],
        [Math.floor(total / 60) % 24, "h"],
        [total % 60, "m"],
    ];
    const first = parts.findIndex(([n]) => n > 0);
    if (first < 0) return "0m";
    return parts
        .slice(first, first + 2)
        .filter(([n]) => n > 0)
        .map(([n, unit]) => `${n}${unit}`)
        .join(" ");
}

export type ExpiryState =
    | { state: "expired"; expires: string; overdueMs: number }
    | { state: "live"; expires: string; remainingMs: number }
    | { state: "missing" }
    | { state: "invalid"; value: string };

/** Reads the expires tag. Only a full ISO time with a zone counts: anything else is not a date to act on. */
export function expiryOf(tags: Readonly<Record<string, string>>, now: Date): ExpiryState {
    const value = tags[EXPIRES_TAG];
    if (value === undefined) return { state: "missing" };
    const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
    const at = Date.parse(value);
    if (!iso.test(value) || Number.isNaN(at)) return { state: "invalid", value };
    const delta = at - now.getTime();
    return delta <= 0 ? { state: "expired", expires: value, overdueMs: Math.abs(delta) } : { state: "live", expires: value, remainingMs: delta };
}

/** What `list` and `reap` know about a stack. */
export interface EphemeralStackInfo {
    name: string;
    tags: Record<string, string>;
    updateInProgress?: boolean;
    lastUpdate?: string;
    resourceCount?: number;
}

export interface ReapSelection {
    reap: Array<{ stack: EphemeralStackInfo; reason: string }>;
    keep: Array<{ stack: EphemeralStackInfo; reason: string }>;
}

/** One line on a stack's expiry, as `list` and `reap` print it. */
export function describeExpiry(e: ExpiryState): string {
    switch (e.state) {
        case "expired":
            return `expired ${e.expires} (${formatDuration(e.overdueMs)} ago)`;
        case "live":
            return `expires ${e.expires} (in ${formatDuration(e.remainingMs)})`;
        case "missing":
            return `no ${EXPIRES_TAG} tag`;
        case "invalid":
            return `${EXPIRES_TAG} ${JSON.stringify(e.value)} is not an ISO time`;
    }
}

/**
 * The stacks the clean-up job destroys: named `ephemeral-*`, tagged as this tool tags them
 * (profile ephemeral), past their expiry, and not being updated right now. Every other stack is
 * kept with the reason, so the job's log says why something is still running.
 */
export function selectForReap(stacks: EphemeralStackInfo[], now: Date): ReapSelection {
    const selection: ReapSelection = { reap: [], keep: [] };
    for (const stack of stacks) {
        const keep = (reason: string) => selection.keep.push({ stack, reason });
        if (!isEphemeralStack(stack.name)) {
            keep("not an ephemeral stack (its name does not start with ephemeral-)");
            continue;
        }
        if (stack.tags[PROFILE_TAG] !== "ephemeral") {
            keep(`not tagged ${PROFILE_TAG}=ephemeral: kept (only stacks this tool created are reaped; run down to remove it)`);
            continue;
        }
        const expiry = expiryOf(stack.tags, now);
        if (expiry.state === "missing") {
            keep(`no ${EXPIRES_TAG} tag: kept (tag it with pulumi stack tag set ${EXPIRES_TAG} <ISO time> --stack ${stack.name}, or run down)`);
        } else if (expiry.state === "invalid") {
            keep(`${describeExpiry(expiry)}: kept (fix the tag or run down)`);
        } else if (expiry.state === "live") {
            keep(describeExpiry(expiry));
        } else if (stack.updateInProgress) {
            keep(`${describeExpiry(expiry)}, but an update is in progress: kept until the next run`);
        } else {
            selection.reap.push({ stack, reason: describeExpiry(expiry) });
        }
    }
    return selection;
}
