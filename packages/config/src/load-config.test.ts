import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, envInt, envUrl, loadConfig } from './index.ts';

const schema = z.object({
  PORT: envInt(1883, { min: 1, max: 65535 }),
  REDIS_URL: envUrl('redis://127.0.0.1:6379', ['redis', 'rediss']),
  MODE: z.enum(['v1', 'v2']),
});

describe('loadConfig', () => {
  it('applies defaults and converts types', () => {
    expect(loadConfig(schema, { MODE: 'v1' })).toEqual({ PORT: 1883, REDIS_URL: 'redis://127.0.0.1:6379', MODE: 'v1' });
  });

  it('lists every problem with the variable name and the value it got', () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: '70000', REDIS_URL: 'http://x', MODE: 'v3' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      'PORT: must be a whole number from 1 to 65535 (got "70000")',
      'REDIS_URL: must be a URL starting with redis:// or rediss:// (got "http://x")',
      expect.stringMatching(/^MODE: .*"v1".*"v2".* \(got "v3"\)$/),
    ]);
  });
});
