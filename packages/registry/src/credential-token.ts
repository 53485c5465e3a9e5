import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** Random bytes per token: 256 bits, far beyond any guessing or offline search. */
export const TOKEN_BYTES = 32;

const HASH_PREFIX = 'sha256:';

/** A new device or operator token: 32 random bytes, base64url (43 characters, safe in URLs, env files, CSV). */
export function generateToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/**
 * What the registry stores instead of the token: `sha256:<hex>`.
 *
 * A fast hash is right here, and a slow password hash (bcrypt, scrypt, argon2) would be wrong: those exist to make
 * guessing *low-entropy* human passwords expensive after a database leak. Our tokens are 256 random bits, so no
 * amount of hashing speed makes guessing one feasible, while a slow hash would cost the broker milliseconds of CPU
 * per CONNECT (a reconnect storm of 10k devices would stall it). The prefix names the algorithm so it can change.
 */
export function hashToken(token: string | Buffer): string {
  return HASH_PREFIX + createHash('sha256').update(token).digest('hex');
}

/**
 * Does `token` hash to `storedHash`? Compares the digests with `timingSafeEqual`, so the time taken does not depend
 * on how many leading bytes match. A stored hash in an unknown format never matches.
 */
export function tokenMatchesHash(token: string | Buffer, storedHash: string): boolean {
  if (!storedHash.startsWith(HASH_PREFIX)) return false;
  const expected = Buffer.from(storedHash.slice(HASH_PREFIX.length), 'hex');
  const actual = createHash('sha256').update(token).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
