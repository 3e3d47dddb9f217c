import { coalesceValues, fullname, secretMounts, type ContainerEnv, type Release, type SecretMount } from "./chart";
import { readChartDefaults } from "../../infra/temporal/chart-keys";
import { getPath as at } from "../../policies/pack/checks/values";

/**
 * The UI's container as chart `temporal` 1.6.0 renders it (`templates/web-deployment.yaml`, tag
 * temporal-1.6.0), for what decides how the UI server runs: its environment, the Secrets it takes
 * whole as environment (`envFrom`), its mounts, its port. Written by hand like `chart.ts`; the
 * comments quote the template.
 */

type Values = Record<string, unknown>;

/** `containerPort: 8080` (named `http`): what the Service, the liveness probe (tcpSocket http) and the readiness probe target. */
export const WEB_CONTAINER_PORT = 8080;

export interface WebContainer {
    /** `{{ .Values.web.image.repository }}:{{ .Values.web.image.tag }}`. */
    image: string;
    /** `env:` in order: TEMPORAL_ADDRESS, then `web.additionalEnv`. */
    env: ContainerEnv;
    /** `envFrom: secretRef` (`web.additionalEnvSecretName`). */
    envFromSecrets: string[];
    /** `envFrom: configMapRef` (`web.additionalEnvConfigMapName`). */
    envFromConfigMaps: string[];
    /** `volumeMounts` of `web.additionalVolumeMounts` that mount a Secret of `web.additionalVolumes`. */
    mounts: SecretMount[];
    port: number;
    /** `readinessProbe` (`web.readinessProbe`: httpGet /healthz on http in the chart's defaults). */
    readinessPath?: string;
}

/** Renders the web container for a release's values (coalesced over the chart's defaults here). */
export function webContainer(values: Values, release: Release, defaults: Values = readChartDefaults()): WebContainer {
    const merged = coalesceValues(defaults, values);
    // value: {{ .Values.web.temporalAddress }} or {{ include "temporal.frontendAddress.fqdn" $ }}
    const temporalAddress = at(merged, "web.temporalAddress");
    const env: ContainerEnv = {
        TEMPORAL_ADDRESS:
            typeof temporalAddress === "string" && temporalAddress !== ""
                ? temporalAddress
                : `${fullname(merged, release)}-frontend.${release.namespace}.svc:${Number(at(merged, "server.frontend.service.port"))}`,
    };
    // {{- toYaml .Values.web.additionalEnv | nindent 12 }}: appended; kubelet lets a later duplicate win.
    for (const e of (at(merged, "web.additionalEnv") ?? []) as { name: string; value?: unknown; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[]) {
        if (e.valueFrom?.secretKeyRef) env[e.name] = { secretName: e.valueFrom.secretKeyRef.name, key: e.valueFrom.secretKeyRef.key };
        else env[e.name] = e.value === undefined ? "" : String(e.value);
    }
    const secretName = at(merged, "web.additionalEnvSecretName");
    const configMapName = at(merged, "web.additionalEnvConfigMapName");
    const readiness = at(merged, "web.readinessProbe.httpGet.path");
    return {
        image: `${String(at(merged, "web.image.repository"))}:${String(at(merged, "web.image.tag"))}`,
        env,
        envFromSecrets: typeof secretName === "string" && secretName !== "" ? [secretName] : [],
        envFromConfigMaps: typeof configMapName === "string" && configMapName !== "" ? [configMapName] : [],
        mounts: secretMounts(merged, "web"),
        port: WEB_CONTAINER_PORT,
        ...(typeof readiness === "string" ? { readinessPath: readiness } : {}),
    };
}

/** A C identifier, which is what kubelet takes from an `envFrom` source (other keys are skipped). */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The container's environment as kubelet builds it: every `envFrom` Secret's keys first, then
 * `env` in order (which overrides them), Secret references resolved from `secrets`
 * (`<name>` → data).
 */
export function resolveContainerEnv(container: Pick<WebContainer, "env" | "envFromSecrets">, secrets: (name: string) => Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of container.envFromSecrets) {
        for (const [key, value] of Object.entries(secrets(name))) if (ENV_NAME.test(key)) out[key] = value;
    }
    for (const [name, value] of Object.entries(container.env)) {
        if (typeof value === "string") out[name] = value;
        else {
            const data = secrets(value.secretName);
            if (!(value.key in data)) throw new Error(`env ${name}: Secret ${value.secretName} has no key ${value.key}`);
            out[name] = data[value.key]!;
        }
    }
    return out;
}
