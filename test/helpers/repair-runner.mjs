// Runs one repair through the runner's own seam: after batch N's writes, before its commit,
// it says so on stderr and waits, so a test can kill the process with that transaction open.
// argv: checkId batchSize pauseAfterBatch   (the database: DATABASE_URL, else IGNY8_DATA_DIR)
import { connect } from '../../dist/db/connect.js';
import { resolveRepairIds } from '../../dist/rules/registry.js';
import { runRepairs } from '../../dist/repairs/run.js';

const [checkId, batchSize, pauseAfter] = process.argv.slice(2);
const db = process.env.DATABASE_URL ? await connect({ databaseUrl: process.env.DATABASE_URL }) : await connect({ dataDir: process.env.IGNY8_DATA_DIR });
await runRepairs(db, resolveRepairIds([checkId], false), {
  apply: true,
  kind: db.kind,
  dataDir: db.dataDir,
  env: process.env,
  batchSize: Number(batchSize),
  async beforeCommit(id, batch) {
    if (batch !== Number(pauseAfter)) return;
    process.stderr.write(`${id} batch ${batch} written, not committed\n`);
    await new Promise((resolve) => setTimeout(resolve, 120_000));
  },
});
await db.close();
