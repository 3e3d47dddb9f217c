import { mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SecretMount } from "./chart";

/**
 * A Secret volume as kubelet lays it out (its AtomicWriter): the data lives in a timestamped folder,
 * `..data` points at it, and each key is a symlink through `..data`. An update writes a new folder
 * and swaps `..data` with one rename, so a reader (the server's certificate reload) sees either
 * every old file or every new one, never a certificate with the other key. Written by hand: it is
 * the few lines of kubelet's behaviour the rotation tests depend on.
 */
export function writeSecretVolume(dir: string, data: Record<string, string>): void {
    mkdirSync(dir, { recursive: true });
    const previous = readdirSync(dir).includes("..data") ? readlinkSync(join(dir, "..data")) : undefined;
    const version = `..${new Date().toISOString().replace(/[-:.]/g, "_")}_${process.hrtime.bigint()}`;
    mkdirSync(join(dir, version));
    for (const [key, value] of Object.entries(data)) writeFileSync(join(dir, version, key), value, { mode: 0o644 });
    symlinkSync(version, join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    for (const key of Object.keys(data)) {
        const link = join(dir, key);
        try {
            readlinkSync(link);
        } catch {
            symlinkSync(join("..data", key), link);
        }
    }
    if (previous !== undefined && previous !== version) rmSync(join(dir, previous), { recursive: true, force: true });
}

/**
 * Writes each mount's Secret as a volume under `root/<prefix><volume>`; returns the folder standing
 * in for each mount path (`roots`) and each volume's folder (`dirs`), for the substitutions.
 */
export function writeSecretMounts(root: string, mounts: readonly SecretMount[], data: (secretName: string) => Record<string, string>, prefix = ""): { roots: Record<string, string>; dirs: Record<string, string> } {
    const roots: Record<string, string> = {};
    const dirs: Record<string, string> = {};
    for (const m of mounts) {
        const dir = join(root, `${prefix}${m.volume}`);
        writeSecretVolume(dir, data(m.secretName));
        roots[m.mountPath] = dir;
        dirs[m.volume] = dir;
    }
    return { roots, dirs };
}
