import { describe, expect, it } from 'vitest';
import type { PeerCertificate } from 'node:tls';
import { revocationReason } from './broker-access.ts';
import { certificateIdentity } from './hooks/authenticate.ts';
import type { Authenticated } from './principals.ts';

const byToken: Authenticated = { principal: { kind: 'device', deviceId: 'aq-1', family: 'airquality' }, method: 'password', tokenHash: 'sha256:old' };
const byCert: Authenticated = { principal: { kind: 'device', deviceId: 'aq-1', family: 'airquality' }, method: 'certificate' };
const device = (over: { enabled?: boolean; family?: 'airquality' | 'traffic'; tokenHash?: string } = {}) => ({
  tokenHash: over.tokenHash ?? 'sha256:old',
  device: { id: 'aq-1', family: over.family ?? 'airquality', enabled: over.enabled ?? true, createdAt: 0, tokenIssuedAt: 0 },
});

describe('revocationReason', () => {
  it.each([
    ['unchanged', byToken, device(), undefined],
    ['deleted', byToken, undefined, 'deleted'],
    ['disabled', byToken, device({ enabled: false }), 'disabled'],
    ['family changed', byToken, device({ family: 'traffic' }), 'updated'],
    ['token rotated', byToken, device({ tokenHash: 'sha256:new' }), 'rotated'],
    ['token rotated, logged in by certificate', byCert, device({ tokenHash: 'sha256:new' }), undefined],
    ['disabled, logged in by certificate', byCert, device({ enabled: false }), 'disabled'],
  ] as const)('%s → %s', (_, authenticated, current, expected) => {
    expect(revocationReason(authenticated, current)).toBe(expected);
  });

  it('closes an operator whose account was disabled or rotated', () => {
    const operator: Authenticated = { principal: { kind: 'operator', name: 'alice', role: 'operator' }, method: 'password', tokenHash: 'sha256:t' };
    const account = (enabled: boolean, tokenHash: string) => ({ tokenHash, operator: { name: 'alice', role: 'operator' as const, enabled, createdAt: 0, tokenIssuedAt: 0 } });
    expect(revocationReason(operator, account(true, 'sha256:t'))).toBeUndefined();
    expect(revocationReason(operator, account(false, 'sha256:t'))).toBe('disabled');
    expect(revocationReason(operator, account(true, 'sha256:u'))).toBe('rotated');
  });
});

describe('certificateIdentity', () => {
  const cert = (subject: Record<string, unknown>, subjectaltname?: string) => ({ subject, subjectaltname }) as unknown as PeerCertificate;
  it('takes the CN, else the first DNS name, and trusts no certificate with two CNs', () => {
    expect(certificateIdentity(cert({ CN: 'aq-1' }, 'DNS:other'))).toBe('aq-1');
    expect(certificateIdentity(cert({ O: 'city' }, 'IP Address:10.0.0.1, DNS:aq-2, DNS:aq-3'))).toBe('aq-2');
    expect(certificateIdentity(cert({ CN: ['aq-1', 'aq-2'] }))).toBeUndefined();
    expect(certificateIdentity(cert({}))).toBeUndefined();
  });
});
