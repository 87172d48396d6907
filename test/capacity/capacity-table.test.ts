import * as fs from 'fs';
import * as path from 'path';
import { capacityTable } from '../../lib/capacity/capacity-table';

test('the README shows the capacity table the model derives today', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const embedded = readme.split('<!-- capacity-table:start -->\n')[1]?.split('\n<!-- capacity-table:end -->')[0];
  expect(embedded).toBe(capacityTable());
});
