import { before, describe } from "node:test";
import { programConsistencyChecks, runProgram, type ProgramRun } from "./program";

let run: ProgramRun;
before(async () => {
    run = await runProgram("prod");
});

describe("whole program, stack prod: the components agree", () => {
    programConsistencyChecks(() => run);
});
