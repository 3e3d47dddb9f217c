import { before, describe } from "node:test";
import { programConsistencyChecks, runProgram, type ProgramRun } from "./program";

let run: ProgramRun;
before(async () => {
    run = await runProgram("ephemeral");
});

describe("whole program, stack ephemeral: the components agree", () => {
    programConsistencyChecks(() => run);
});
