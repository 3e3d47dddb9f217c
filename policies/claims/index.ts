/**
 * The bundled validator: what Temporal server 1.31's default JWT claim mapper and default
 * authorizer decide for a token, and why. Stable public API (other parts of the project rely on it):
 *
 * - `createClaimMapper(options)` → `{ getClaims(authInfo), inspect(authInfo), keySource, settings }`;
 *   `getClaims({ authorization: "Bearer <jwt>" })` resolves to `Claims` or rejects with a
 *   `ClaimsError` (stable `code`, message naming the fix, never the token). Profiles "temporal"
 *   (exactly the server) and "entra" (the server plus tenant, version and token-kind rules).
 * - `authorize(claims, { apiName, namespace })` → `{ decision: "allow" | "deny", reason, ... }`:
 *   the server's default authorizer over the method table in api-access.json.
 * - `admit(mapper, authorization, { apiName, namespace })` → `Admission`: the whole interceptor
 *   (mapper + authorizer) for one call, including what differs on streams and Nexus calls (no
 *   audience check) and on methods the frontend does not serve. `callKind(api)` says which.
 * - `accessMatrix(claims, namespaces)` → `{ cluster: "none"|"read"|"admin", namespaces: {ns: "none"|"read"|"write"|"admin"} }`,
 *   computed through `authorize()`; `accessDetails` adds the denial reasons.
 * - `explain(token, options)` → `ExplainReport`; `formatExplain(report)` → text.
 * - `parsePermissions(permissions, { permissionsRegex?, claimName? })` → `{ system, namespaces, findings }`.
 * - `createKeySource(options)`: the JWKS cache the mapper uses (local set or URLs).
 * - `Role`, `Claims`, `SYSTEM_SCOPE`, `roleNames`, `effectiveAccess`.
 */
export { Role, SYSTEM_SCOPE, ROLE_WORDS, ACCESS_REQUIRED_ROLE, roleNames, effectiveAccess, lookupTable, type Claims, type RoleBits, type Access } from "./roles";
export {
    parsePermissions,
    compilePermissionsPattern,
    foldPermissions,
    goToLower,
    roleForWord,
    isAccessMapError,
    type Finding,
    type FindingCode,
    type ParsedPermissions,
    type ParseOptions,
    type PermissionsPattern,
} from "./permissions";
export { compileGoRegexp, GoRegexpError, type GoRegexp, type GoRegexpErrorKind } from "./go-regexp";
export { applicationJwksUrl, entraEndpoints, parseApplicationJwksUrl, type EntraEndpoints } from "./entra";
export { ClaimsError, CLAIMS_ERROR_CODES, isClaimsError, type ClaimsErrorCode } from "./errors";
export { createKeySource, parseJwks, type KeySource, type KeySourceOptions, type KeySourceStatus, type KeySet, type KeyType, type ResolvedKey, type VerificationKey } from "./keys";
export { createClaimMapper, type AuthInfo, type ClaimMapper, type ClaimMapperOptions, type MapperSettings, type TokenInspection } from "./mapper";
export {
    authorize,
    accessMatrix,
    accessDetails,
    methodAccess,
    resolveApiName,
    callKind,
    carriesNamespace,
    FRONTEND_METHODS,
    API_ACCESS,
    API_ACCESS_SERVER_VERSION,
    HEALTH_CHECK_APIS,
    REPRESENTATIVE_METHODS,
    type AccessMatrix,
    type AuthorizeResult,
    type CallTarget,
    type CallKind,
    type ClusterAccess,
    type MethodAccess,
    type MethodAccessLevel,
    type MethodScope,
    type NamespaceAccess,
} from "./authorizer";
export { admit, type Admission } from "./interceptor";
export { explain, formatExplain, authorizationFor, type ExplainOptions, type ExplainReport, type TokenKind } from "./explain";
