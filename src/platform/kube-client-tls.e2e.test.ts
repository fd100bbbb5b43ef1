/**
 * The client over TLS as a real API server speaks it: the server's certificate checked against the
 * kubeconfig's `certificate-authority-data`, the user authenticated by a client certificate
 * (`client-certificate-data`/`client-key-data`), as kube-apiserver's admin kubeconfig does. The
 * certificate comes from `openssl` (a real process, hence e2e; it fails when openssl is missing).
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeClient } from './kube-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'kube-tls-'));
let server: https.Server;
let port = 0;
let cert: Buffer;
let key: Buffer;
const seen: { authorized: boolean; cn: string | undefined; path: string | undefined }[] = [];

beforeAll(async () => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  cert = readFileSync(join(dir, 'cert.pem'));
  key = readFileSync(join(dir, 'key.pem'));
  // The same self-signed certificate serves as the server's, the CA and the client's: enough to
  // prove each side is checked.
  server = https.createServer({ key, cert, ca: cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const cn = socket.getPeerCertificate().subject?.CN;
    seen.push({ authorized: socket.authorized, cn: Array.isArray(cn) ? cn[0] : cn, path: req.url });
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' }));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function kubeconfig(withClientCert: boolean, ca: Buffer): string {
  const file = join(dir, `kubeconfig-${withClientCert}-${ca.length}`);
  const user = withClientCert
    ? `client-certificate-data: ${cert.toString('base64')}\n      client-key-data: ${key.toString('base64')}`
    : 'token: not-a-client-certificate';
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
current-context: tls
clusters:
  - name: tls
    cluster:
      server: https://127.0.0.1:${port}
      certificate-authority-data: ${ca.toString('base64')}
users:
  - name: admin
    user:
      ${user}
contexts:
  - name: tls
    context: { cluster: tls, user: admin }
`,
  );
  return file;
}

describe('kube-client over TLS', () => {
  it('checks the server against the CA and authenticates with the client certificate', async () => {
    const c = await KubeClient.connect({ kubeconfig: kubeconfig(true, cert), context: 'tls' }, { caller: 'run' });
    expect(await c.get('Deployment', 'sprincube', 'account-canary')).toBeNull();
    expect(seen.at(-1)).toEqual({
      authorized: true,
      cn: '127.0.0.1',
      path: '/apis/apps/v1/namespaces/sprincube/deployments/account-canary',
    });
  });

  it('refuses a server whose certificate the kubeconfig does not trust', async () => {
    const other = mkdtempSync(join(dir, 'other-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        join(other, 'key.pem'),
        '-out',
        join(other, 'cert.pem'),
        '-subj',
        '/CN=someone-else',
      ],
      { stdio: 'ignore' },
    );
    const c = await KubeClient.connect(
      { kubeconfig: kubeconfig(true, readFileSync(join(other, 'cert.pem'))), context: 'tls' },
      { caller: 'run', retries: 0 },
    );
    await expect(c.get('Deployment', 'sprincube', 'x')).rejects.toThrow(/did not answer: .*certificate/);
  });
});
