import { describe, expect, it } from 'vitest';
import { generateToken, hashToken, tokenMatchesHash } from './credential-token.ts';

describe('credential tokens', () => {
  it('generates 32 random bytes as 43 base64url characters, different every time', () => {
    const tokens = new Set(Array.from({ length: 100 }, generateToken));
    expect(tokens.size).toBe(100);
    for (const token of tokens) expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from([...tokens][0]!, 'base64url')).toHaveLength(32);
  });

  it('stores sha256 with the algorithm named, never the token', () => {
    expect(hashToken('abc')).toBe('sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const token = generateToken();
    expect(hashToken(token)).not.toContain(token);
  });

  it('matches the right token, as a string or as the bytes of an MQTT password', () => {
    const token = generateToken();
    const stored = hashToken(token);
    expect(tokenMatchesHash(token, stored)).toBe(true);
    expect(tokenMatchesHash(Buffer.from(token), stored)).toBe(true);
  });

  it('rejects a wrong token, an empty one, and a stored hash in an unknown or damaged format', () => {
    const token = generateToken();
    const stored = hashToken(token);
    expect(tokenMatchesHash(generateToken(), stored)).toBe(false);
    expect(tokenMatchesHash('', stored)).toBe(false);
    expect(tokenMatchesHash(token, stored.replace('sha256:', 'md5:'))).toBe(false);
    expect(tokenMatchesHash(token, stored.slice(0, -2))).toBe(false);
    expect(tokenMatchesHash(token, '')).toBe(false);
  });
});
