import { expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { describeEachDatabase } from './helpers/databases.js';

describeEachDatabase(
  'igny8 migrate as child processes',
  (fx) => {
    it('two migrate processes at once: one applies, the other waits and finds nothing pending', async () => {
      const [one, two] = await Promise.all([
        runCli(['--json', 'migrate'], { env: fx.t.env }),
        runCli(['--json', 'migrate'], { env: fx.t.env }),
      ]);
      expect([one.code, two.code]).toEqual([0, 0]);
      const applied = [one, two].flatMap(
        (run) => (JSON.parse(run.stdout) as { results: Array<{ name: string; status: string }> }).results,
      );
      const names = applied.filter((r) => r.status === 'applied').map((r) => r.name);
      expect(names.length).toBeGreaterThan(0);
      expect(new Set(names).size).toBe(names.length);

      const status = await runCli(['--json', 'migrate', 'status'], { env: fx.t.env });
      const rows = (JSON.parse(status.stdout) as { migrations: Array<{ name: string; state: string }> }).migrations;
      expect(rows.every((row) => row.state === 'applied')).toBe(true);
      expect(rows.map((row) => row.name).sort()).toEqual([...names].sort());
    });

    it('a dry run reports and changes nothing; adopt refuses a database igny8 already manages', async () => {
      const dry = await runCli(['migrate', '--dry-run'], { env: fx.t.env });
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/nothing to do/);
      const adopt = await runCli(['migrate', 'adopt'], { env: fx.t.env });
      expect(adopt.code).toBe(3);
      expect(adopt.stderr).toMatch(/already managed by igny8/);
    });

    it('bad flag values exit 2 and name the flag', async () => {
      const result = await runCli(['migrate', '--lock-timeout', 'soon'], { env: fx.t.env });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--lock-timeout/);
    });
  },
  {
    onDisk: true,
    // The test's own handle is closed so that the embedded directory is free for the children.
    setup: (t) => t.db.close(),
  },
);
