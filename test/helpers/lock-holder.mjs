// A process that takes the embedded database's directory lock, writes when it holds it and
// when it lets go to a shared log, and exits: the lock tests start many of these at once.
// argv: dataDir logFile holdMs [hang]
import { appendFileSync } from 'node:fs';
import { acquireDataDirLock } from '../../dist/db/data-dir-lock.js';

const [dataDir, logFile, holdMs, mode] = process.argv.slice(2);
const lock = await acquireDataDirLock(dataDir, { waitMs: 60_000 });
appendFileSync(logFile, `hold ${process.pid}\n`);
if (mode === 'hang') {
  process.stdout.write('holding\n');
  setInterval(() => undefined, 1_000);
} else {
  await new Promise((resolve) => setTimeout(resolve, Number(holdMs)));
  appendFileSync(logFile, `free ${process.pid}\n`);
  lock.release();
}
