import { before, describe } from "node:test";
import { programConsistencyChecks, runProgram, type ProgramRun } from "./program";

let run: ProgramRun;
before(async () => {
    run = await runProgram("dev");
});

describe("whole program, stack dev: the components agree", () => {
    programConsistencyChecks(() => run);
});
