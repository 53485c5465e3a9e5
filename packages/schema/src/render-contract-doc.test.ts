import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { FAMILIES } from './families.ts';
import { REASON_CODES } from './reason-codes.ts';
import { REASON_DESCRIPTIONS } from './reason-descriptions.ts';
import { renderContractDoc, renderReadingJsonSchema } from './render-contract-doc.ts';

const docs = new URL('../../../docs/', import.meta.url);
const STALE = 'is stale: run `pnpm docs:contract` and commit the result';

describe('the generated contract reference', () => {
  it('docs/contract.md is what the schemas render', async () => {
    const committed = await readFile(new URL('contract.md', docs), 'utf8').catch(() => '(missing)');
    expect(committed === renderContractDoc(), `docs/contract.md ${STALE}`).toBe(true);
  });

  it('docs/device-reading.schema.json is what the schemas render', async () => {
    const committed = await readFile(new URL('device-reading.schema.json', docs), 'utf8').catch(() => '(missing)');
    expect(committed === renderReadingJsonSchema(), `docs/device-reading.schema.json ${STALE}`).toBe(true);
  });

  it('documents every family and every reason code', () => {
    const doc = renderContractDoc();
    for (const family of FAMILIES) expect(doc).toContain(`### \`${family}\``);
    for (const reason of REASON_CODES) expect(doc).toContain(`| \`${reason}\` |`);
    expect(REASON_CODES.filter((r) => REASON_DESCRIPTIONS[r] === undefined)).toEqual([]);
  });

  it('takes types and ranges from the zod schemas', () => {
    expect(renderContractDoc()).toMatch(/\| `pm25` \| number \| µg\/m³ \| `ug\/m3` \| `mg\/m3` `kg\/m3` \| 0 … 2000 \|/);
    expect(renderContractDoc()).toMatch(/\| `waterConsumption` \| number, cumulative \|/);
  });
});
