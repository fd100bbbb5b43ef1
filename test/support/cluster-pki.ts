/**
 * Certificates of a test cluster, made at each start with openssl: a CA, serving certificates for
 * 127.0.0.1/localhost (API server, controller-manager, scheduler), one client certificate per
 * identity (the admin in system:masters, the controller-manager, the scheduler, KWOK), the
 * aggregation layer's front-proxy CA and client, and the service-account signing key pair. Nothing is reused between clusters; the files live in the
 * cluster's state folder and go with it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export interface KeyPair {
  cert: string;
  key: string;
}

export interface ClusterPki {
  dir: string;
  ca: KeyPair;
  apiServer: KeyPair;
  controllerManagerServing: KeyPair;
  schedulerServing: KeyPair;
  admin: KeyPair;
  controllerManager: KeyPair;
  scheduler: KeyPair;
  kwok: KeyPair;
  /** The aggregation layer's own CA and the API server's client certificate towards extension servers. */
  frontProxyCa: KeyPair;
  frontProxyClient: KeyPair;
  serviceAccountKey: string;
  serviceAccountPub: string;
}

/** The kube-apiserver's ClusterIP in --service-cluster-ip-range=10.96.0.0/16: a name in the certificate, never dialled. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await exec('openssl', args, { cwd });
  } catch (error) {
    const err = error as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') {
      throw new Error('test cluster: `openssl` is not on PATH (apt-get install openssl): it makes the certificates');
    }
    throw new Error(`test cluster: openssl ${args[0]} failed: ${err.stderr ?? err.message}`);
  }
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** One leaf certificate signed by the CA: a client (subject with O= groups) or a server (SANs). */
async function leaf(
  dir: string,
  name: string,
  subject: string,
  usage: 'clientAuth' | 'serverAuth',
  altNames: string[] = [],
  issuer = 'ca',
): Promise<KeyPair> {
  const ext = [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    `extendedKeyUsage=${usage}`,
    ...(altNames.length > 0 ? [`subjectAltName=${altNames.join(',')}`] : []),
  ];
  await writeFile(join(dir, `${name}.ext`), `${ext.join('\n')}\n`);
  await openssl(['req', '-new', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
  await openssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${issuer}.crt`,
      '-CAkey',
      `${issuer}.key`,
      '-set_serial',
      `0x${randomBytes(12).toString('hex')}`,
      '-days',
      '30',
      '-sha256',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.crt`,
    ],
    dir,
  );
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

const SERVING_NAMES = ['IP:127.0.0.1', 'DNS:localhost'];

/** A self-signed CA as `name`.crt/.key. */
async function authority(dir: string, name: string, commonName: string): Promise<KeyPair> {
  await openssl(
    [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '30',
      '-sha256',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign,digitalSignature',
    ],
    dir,
  );
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

export async function makeClusterPki(dir: string): Promise<ClusterPki> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const [ca, frontProxyCa] = await Promise.all([
    authority(dir, 'ca', 'sprincube-canary-test-ca'),
    authority(dir, 'front-proxy-ca', 'sprincube-canary-test-front-proxy-ca'),
  ]);
  const apiServerNames = [
    ...SERVING_NAMES,
    `IP:${KUBERNETES_SERVICE_IP}`,
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
    'DNS:kubernetes.default.svc.cluster.local',
  ];
  const [
    apiServer,
    controllerManagerServing,
    schedulerServing,
    admin,
    controllerManager,
    scheduler,
    kwok,
    frontProxyClient,
  ] = await Promise.all([
    leaf(dir, 'apiserver', '/CN=kube-apiserver', 'serverAuth', apiServerNames),
    leaf(dir, 'controller-manager-serving', '/CN=kube-controller-manager', 'serverAuth', SERVING_NAMES),
    leaf(dir, 'scheduler-serving', '/CN=kube-scheduler', 'serverAuth', SERVING_NAMES),
    leaf(dir, 'admin', '/O=system:masters/CN=sprincube-canary-admin', 'clientAuth'),
    leaf(dir, 'controller-manager', '/CN=system:kube-controller-manager', 'clientAuth'),
    leaf(dir, 'scheduler', '/CN=system:kube-scheduler', 'clientAuth'),
    // KWOK plays the kubelet of every fake node and writes their pods' status: it acts as an admin.
    leaf(dir, 'kwok', '/O=system:masters/CN=kwok', 'clientAuth'),
    leaf(dir, 'front-proxy-client', '/CN=front-proxy-client', 'clientAuth', [], 'front-proxy-ca'),
  ]);
  await openssl(['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key'], dir);
  await openssl(['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub'], dir);
  return {
    dir,
    ca,
    frontProxyCa,
    frontProxyClient,
    apiServer,
    controllerManagerServing,
    schedulerServing,
    admin,
    controllerManager,
    scheduler,
    kwok,
    serviceAccountKey: join(dir, 'sa.key'),
    serviceAccountPub: join(dir, 'sa.pub'),
  };
}

/** A PEM file's content, base64-encoded, as kubeconfig's *-data fields take it. */
export async function pemData(path: string): Promise<string> {
  return Buffer.from(await readFile(path)).toString('base64');
}
