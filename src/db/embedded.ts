// How igny8 starts PGlite, in one place: the CLI opens the embedded database this way, and
// the benchmark's embedded floor opens it the same way.
import { setFlagsFromString } from 'node:v8';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';

export async function newPglite(dataDir: string | undefined, options: PGliteOptions = {}): Promise<PGlite> {
  // PGlite is Postgres compiled to WebAssembly. V8 compiles it twice by default, quickly and
  // then optimised for hot code; in a short CLI process the second compilation costs more time
  // and memory than it saves (bench/RESULTS.md, "empty embedded audit"). It must be set before
  // the module is compiled.
  setFlagsFromString('--liftoff-only');
  const { PGlite } = await import('@electric-sql/pglite');
  // Postgres starts with 128 MB of shared buffers, all of them inside this process, which
  // alone takes it past the 256 MB igny8 allows itself. The embedded database is the small one
  // (development, demos, tests): 16 MB of buffers is plenty for it.
  const startParams = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];
  return dataDir === undefined ? new PGlite({ ...options, startParams }) : new PGlite(dataDir, { ...options, startParams });
}
