import { PolicyPack } from "@pulumi/policy";
import { allPolicies } from "./policies";

// The only place the pack is constructed: constructing it starts the policy gRPC server, so tests
// and the offline plan import the policies from ./policies instead.
new PolicyPack("temporal-azure", { policies: allPolicies });
