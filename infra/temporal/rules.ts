import type { ConfigRule } from "../config/issues";

/** Cross-section config rules of the Temporal release, run at preview before any resource is registered. */

const audienceRule: ConfigRule = (cfg) =>
    cfg.identity.acceptV1Tokens
        ? [
              {
                  path: "identity.acceptV1Tokens",
                  message:
                      "the Temporal server compares aud with one value, the API's client id as v2 tokens carry it; v1 tokens carry api://<client-id> and would all be refused: set it to false",
              },
          ]
        : [];

const hostsRule: ConfigRule = (cfg) =>
    cfg.temporal.frontendExternalHost !== undefined && cfg.temporal.frontendExternalHost === cfg.identity.uiHost
        ? [
              {
                  path: "temporal.frontendExternalHost",
                  message: `"${cfg.temporal.frontendExternalHost}" is also identity.uiHost: the frontend (TLS passthrough) and the UI (TLS terminated) need different host names`,
              },
          ]
        : [];

export const temporalRules: ConfigRule[] = [audienceRule, hostsRule];
