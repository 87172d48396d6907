/** Prints the capacity table that the README embeds: `npm run capacity:table`. */
import { capacityTable } from '../lib/capacity/capacity-table';

process.stdout.write(`${capacityTable()}\n`);
