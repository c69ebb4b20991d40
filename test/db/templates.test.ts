import { expect, it } from 'vitest';
import { describeEachDatabase } from '../helpers/databases.js';
import { migrationStatus } from '../../src/db/migrator.js';

describeEachDatabase(
  'migrated test databases',
  (fx) => {
    it('start with every migration applied and the catalog synced', async () => {
      const status = await migrationStatus(fx.db);
      expect(status.every((row) => row.state === 'applied')).toBe(true);
      const plans = await fx.db.knex('igny8_plans').orderBy('slug').pluck('slug');
      expect(plans).toEqual(['free', 'growth', 'scale', 'starter']);
    });
  },
  { migrated: true },
);
