import * as fs from 'fs';
import * as path from 'path';
import { capacityTable } from '../../lib/capacity/capacity-table';

test('the README shows the capacity table the model derives today', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const embedded = readme.split('<!-- capacity-table:start -->\n')[1]?.split('\n<!-- capacity-table:end -->')[0];
  expect(embedded).toBe(capacityTable());
});

test('the table says which environments hold their hot data in one Aurora volume', () => {
  const rows = capacityTable().split('\n');
  expect(rows.find((r) => r.startsWith('| staging |'))).toMatch(/\| 45\.5 TB \|$/);
  expect(rows.find((r) => r.startsWith('| prod |'))).toMatch(/OVER one volume \(a 1-month retention fits\) \|$/);
  expect(rows.find((r) => r.startsWith('| prod with'))).toMatch(/OVER one volume \(not even one month fits\) \|$/);
});
