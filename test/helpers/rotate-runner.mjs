// Runs a key rotation through the rotation's own seam: after batch N's writes, before its
// commit, it says so on stderr and waits, so a test can kill it with that transaction open.
// argv: pauseAfterBatch   (keys from IGNY8_SECRET_KEY and IGNY8_NEW_SECRET_KEY; database from
// DATABASE_URL or IGNY8_DATA_DIR)
import { connect } from '../../dist/db/connect.js';
import { parseSecretKey } from '../../dist/crypto/index.js';
import { rotateKey } from '../../dist/domain/rotate-key.js';

const [pauseAfter] = process.argv.slice(2);
const db = process.env.DATABASE_URL ? await connect({ databaseUrl: process.env.DATABASE_URL }) : await connect({ dataDir: process.env.IGNY8_DATA_DIR });
await rotateKey(db, {
  from: parseSecretKey(process.env.IGNY8_SECRET_KEY),
  to: parseSecretKey(process.env.IGNY8_NEW_SECRET_KEY, 'IGNY8_NEW_SECRET_KEY'),
  batchSize: 5,
  async beforeCommit(batch) {
    if (batch !== Number(pauseAfter)) return;
    process.stderr.write(`batch ${batch} written, not committed\n`);
    await new Promise((resolve) => setTimeout(resolve, 120_000));
  },
});
await db.close();
