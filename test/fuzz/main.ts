// npm run fuzz: the fuzz suite at full size (FUZZ_SEED=<seed> replays a run). Exits 1 on any failure.
import { benchFuzz } from "../../bench/fuzz.ts";

const report = await benchFuzz();
process.exit(report.failures.length > 0 ? 1 : 0);
