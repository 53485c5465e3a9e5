/**
 * `pnpm docs:contract`: writes docs/contract.md and docs/device-reading.schema.json from the contract's sources.
 * packages/schema/src/render-contract-doc.test.ts fails when either is stale.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { renderContractDoc, renderReadingJsonSchema } from '../src/render-contract-doc.ts';

const docs = new URL('../../../docs/', import.meta.url);
await writeFile(new URL('contract.md', docs), renderContractDoc());
await writeFile(new URL('device-reading.schema.json', docs), renderReadingJsonSchema());
process.stdout.write(`wrote ${fileURLToPath(new URL('contract.md', docs))} and device-reading.schema.json\n`);
