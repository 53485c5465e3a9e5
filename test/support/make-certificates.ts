import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const openssl = (dir: string, args: string[]) => run('openssl', args, { cwd: dir });

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

export interface CertificateAuthority extends KeyPair {
  /** A certificate for `cn`, signed by this CA: a server certificate for an IP address, or a client certificate. */
  issue(cn: string, use: { serverIp: string } | 'client'): Promise<KeyPair>;
}

export interface CertificateDir {
  dir: string;
  /** A new CA (P-256, valid one day). */
  createCa(name: string): Promise<CertificateAuthority>;
  remove(): Promise<void>;
}

/**
 * Certificates made for one test with the system's openssl, in a temp dir of its own: nothing is committed, nothing
 * outlives the test. P-256 keys take milliseconds to make.
 */
export async function makeCertificateDir(): Promise<CertificateDir> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'city-certs-'));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  return {
    dir,
    async createCa(name) {
      await openssl(dir, ['req', '-x509', ...ec, '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
      const ca = { cert: await readFile(path.join(dir, `${name}.crt`)), key: await readFile(path.join(dir, `${name}.key`)) };
      let serial = 0;
      return {
        ...ca,
        async issue(cn, use) {
          const base = `${name}-${++serial}`;
          const ext = use === 'client'
            ? 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n'
            : `basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:${use.serverIp}\n`;
          await writeFile(path.join(dir, `${base}.ext`), ext);
          await openssl(dir, ['req', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', `/CN=${cn}`]);
          await openssl(dir, ['x509', '-req', '-in', `${base}.csr`, '-CA', `${name}.crt`, '-CAkey', `${name}.key`, '-set_serial', String(Date.now() + serial),
            '-days', '1', '-out', `${base}.crt`, '-extfile', `${base}.ext`]);
          return { cert: await readFile(path.join(dir, `${base}.crt`)), key: await readFile(path.join(dir, `${base}.key`)) };
        },
      };
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
