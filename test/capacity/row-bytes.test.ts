import { applyMigrations } from '../../database/migrator';
import { PER_UNIT } from '../../lib/capacity/per-unit-figures';
import { measureRowBytes, RowBytes } from '../../bench/row-bytes';
import { createTestDatabase, TestDatabase } from '../database/pg-test-db';

jest.setTimeout(120_000);

/**
 * The storage figures of the capacity model, re-measured on the real schema in the local PostgreSQL: a migration that
 * adds a column or an index, or a backend change that stores more per row, makes this fail until the figure (and the
 * Aurora storage check it feeds) is updated with `npm run bench:row-bytes`.
 */
describe('bytes per row the capacity model plans with', () => {
  let db: TestDatabase;
  let measured: RowBytes;
  beforeAll(async () => {
    db = await createTestDatabase('rowbytes');
    await applyMigrations(db.pool);
    measured = await measureRowBytes(db.pool, 20_000);
  });
  afterAll(async () => {
    await db.drop();
  });

  const FIGURES: Array<[keyof RowBytes, keyof typeof PER_UNIT]> = [
    ['message', 'messageRowBytes'], ['post', 'postRowBytes'], ['activity', 'activityRowBytes'],
    ['idempotency', 'idempotencyRowBytes'], ['outbox', 'outboxRowBytes'], ['user', 'userBytes'],
  ];

  // Random UUIDs split index pages at random: a run measures a few percent either way, so the figure may sit up to
  // 3 % under one measurement; more than 15 % over it would overstate what Aurora holds.
  test.each(FIGURES)('%s: %s is what the schema stores', (kind, figure) => {
    expect(PER_UNIT[figure].value).toBeGreaterThanOrEqual(measured[kind] * 0.97);
    expect(PER_UNIT[figure].value).toBeLessThanOrEqual(measured[kind] * 1.15);
  });
});
