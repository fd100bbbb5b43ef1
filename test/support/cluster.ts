/**
 * A real Kubernetes control plane on loopback for the cluster suites and `npm run cluster:up`:
 * etcd, kube-apiserver (client-certificate and service-account authentication, Node and RBAC
 * authorization), kube-controller-manager, kube-scheduler and KWOK, which plays the kubelet of a
 * few fake nodes (pods become Running and Ready, Jobs complete; the ImagePullBackOff stage fails a
 * pod annotated for it). The programs come from `npm run cluster:build`; certificates are made at
 * each start; ports are free ones chosen at start; nothing listens beyond 127.0.0.1. Addresses the
 * cluster assigns (10.x service and pod IPs) are labels: nothing connects to them.
 *
 * In a suite the processes are children of the test process and are killed if it exits first; with
 * `detached` (cluster:up) they outlive it, their ids are in state.json, and stopDetachedCluster()
 * (cluster:down) ends exactly those.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, stringify } from 'yaml';
import { FAIL_ANNOTATION } from '../../scripts/cluster/kwok-stages.ts';
import { type BuildLayout, type Binary, CLUSTER_CONFIG, requireBuild } from '../../scripts/cluster/layout.ts';
import { ClusterApi, statusMessage } from './cluster-api.ts';
import { type ClusterPki, makeClusterPki, pemData } from './cluster-pki.ts';
import { distinctFreeLoopbackPorts } from '../../src/core/loopback.ts';

/** The field manager of everything the project applies. */
export const FIELD_MANAGER = 'sprincube-canary';
/** The annotation that makes KWOK fail a pod; its value is the waiting reason (ImagePullBackOff). */
export const KWOK_FAIL_ANNOTATION = FAIL_ANNOTATION;
/** The annotation KWOK selects its fake nodes by (--manage-nodes-with-annotation-selector). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';
const CONTEXT = 'sprincube-test';
const SETPRIV = '/usr/bin/setpriv';

export interface StartTestClusterOptions {
  /** Fake nodes KWOK manages; 3 unless given. */
  nodes?: number;
  /** The folder for certificates, etcd data, logs and kubeconfigs; a new temporary one unless given. */
  stateDir?: string;
  /** Let the processes outlive this one (cluster:up); stop them with stopDetachedCluster(stateDir). */
  detached?: boolean;
  /** How long each component may take to become ready; 180 s unless given (two busy cores). */
  readyTimeoutMs?: number;
  /** Progress lines; silent unless given. */
  log?: (line: string) => void;
}

export interface TestCluster {
  /** The admin kubeconfig (system:masters), current context on this cluster. */
  kubeconfigPath: string;
  /** https://127.0.0.1:PORT */
  server: string;
  stateDir: string;
  /** An admin client for the harness's own requests. */
  api: ClusterApi;
  /** Process ids by component. */
  pids(): Record<string, number>;
  /** Stops every process (KWOK first, etcd last) and removes the state folder. Idempotent. */
  stop(): Promise<void>;
  /** Stops the API server and starts it again on the same port, certificates and etcd; resolves when /readyz is ok. */
  restartApiServer(): Promise<void>;
  /** A kubeconfig whose user is the ServiceAccount, with a token from the TokenRequest API. */
  runAs(serviceAccount: string, namespace: string): Promise<string>;
  /** Creates the namespace (if missing) and waits for its `default` ServiceAccount, which pods need. */
  namespace(name: string): Promise<void>;
}

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
  controllerManager: number;
  scheduler: number;
  kwok: number;
}

export interface ClusterState {
  server: string;
  kubeconfig: string;
  build: string;
  ports: Ports;
  pids: Record<string, number>;
}

/** One program of the cluster, its output appended to logs/NAME.log. */
class Component {
  child: ChildProcess | undefined;
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly command: string,
    readonly args: string[],
    readonly logPath: string,
    private readonly detached: boolean,
  ) {}

  start(): void {
    const fd = openSync(this.logPath, 'a');
    try {
      // Attached to a suite, each program also gets SIGKILL from the kernel if the test process dies
      // without running its exit handlers (setpriv --pdeathsig, util-linux, then execs the program).
      const [command, args] =
        !this.detached && existsSync(SETPRIV)
          ? [SETPRIV, ['--pdeathsig', 'KILL', '--', this.command, ...this.args]]
          : [this.command, this.args];
      const child = spawn(command, args, { stdio: ['ignore', fd, fd], detached: this.detached });
      this.child = child;
      this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
      child.once('error', () => undefined);
      if (this.detached) child.unref();
    } finally {
      closeSync(fd);
    }
  }

  get running(): boolean {
    const child = this.child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }

  /** Why it is not running, with the end of its log. */
  failure(): string {
    const child = this.child;
    const how = child?.signalCode ? `signal ${child.signalCode}` : `exit code ${child?.exitCode}`;
    return `${this.name} stopped (${how}); end of ${this.logPath}:\n${logTail(this.logPath)}`;
  }

  async stop(graceMs = 15_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  killNow(): void {
    if (this.running) this.child?.kill('SIGKILL');
  }
}

function logTail(path: string, lines = 25): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns a value (not undefined), failing at once if a component it depends
 * on stops, and after `timeoutMs` with what it was waiting for and the last probe error.
 */
async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  watched: Component[] = [],
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (let attempt = 0; ; attempt++) {
    for (const component of watched) {
      if (!component.running) throw new Error(`test cluster: waiting for ${what}: ${component.failure()}`);
    }
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new Error(`test cluster: ${what} not within ${timeoutMs / 1000} s${last ? ` (last: ${last})` : ''}`);
    }
    await delay(Math.min(100 * 2 ** attempt, 1000));
  }
}

async function httpOk(url: string): Promise<true | undefined> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  return res.ok ? true : undefined;
}

interface KubeconfigUser {
  'client-certificate'?: string;
  'client-key'?: string;
  'client-certificate-data'?: string;
  'client-key-data'?: string;
  token?: string;
}

async function writeKubeconfig(path: string, server: string, caPath: string, user: KubeconfigUser, userName: string) {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: CONTEXT, cluster: { server, 'certificate-authority-data': await pemData(caPath) } }],
    users: [{ name: userName, user }],
    contexts: [{ name: CONTEXT, context: { cluster: CONTEXT, user: userName } }],
    'current-context': CONTEXT,
    preferences: {},
  };
  await writeFile(path, stringify(config), { mode: 0o600 });
}

function componentKubeconfig(dir: string, name: string, server: string, pki: ClusterPki, pair: keyof ClusterPki) {
  const keys = pki[pair] as { cert: string; key: string };
  return writeKubeconfig(
    join(dir, `${name}.kubeconfig`),
    server,
    pki.ca.cert,
    { 'client-certificate': keys.cert, 'client-key': keys.key },
    name,
  );
}

/** KWOK's configuration: every stage of the build (KWOK's defaults) and the project's (cluster/config/kwok/). */
async function kwokConfig(layout: BuildLayout, path: string): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  const yamlIn = async (dir: string) =>
    (await readdir(dir))
      .filter((name) => name.endsWith('.yaml'))
      .sort()
      .map((name) => join(dir, name));
  const stages = [...(await yamlIn(layout.kwokStages)), ...(await yamlIn(join(CLUSTER_CONFIG, 'kwok')))];
  // Options come as flags; a KwokConfiguration document here would replace KWOK's defaults.
  const docs: string[] = [];
  for (const file of stages) docs.push(await readFile(file, 'utf8'));
  await writeFile(path, docs.map((doc) => doc.trimEnd()).join('\n---\n'));
}

function fakeNode(name: string, zone: string) {
  const resources = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: { [KWOK_NODE_ANNOTATION]: 'fake', 'node.alpha.kubernetes.io/ttl': '0' },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'topology.kubernetes.io/zone': zone,
        type: 'kwok',
      },
    },
    spec: {},
    status: {
      allocatable: resources,
      capacity: resources,
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion: 'kwok',
        kubeProxyVersion: 'kwok',
        containerRuntimeVersion: 'kwok',
        kernelVersion: 'kwok',
        osImage: 'kwok',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
      phase: 'Running',
    },
  };
}

interface Condition {
  type: string;
  status: string;
}

function conditionTrue(object: unknown, type: string): boolean {
  const conditions = (object as { status?: { conditions?: Condition[] } })?.status?.conditions ?? [];
  return conditions.some((c) => c.type === type && c.status === 'True');
}

/** Applies the build's CRDs (Istio, TestRun) with server-side apply and waits until each is Established. */
async function installCrds(api: ClusterApi, layout: BuildLayout, timeoutMs: number, watched: Component[]) {
  const names: string[] = [];
  for (const file of ['istio.yaml', 'k6-testrun.yaml']) {
    const text = await readFile(join(layout.crds, file), 'utf8');
    for (const doc of parseAllDocuments(text)) {
      const crd = doc.toJS() as { kind?: string; metadata?: { name?: string } } | null;
      if (!crd || crd.kind !== 'CustomResourceDefinition' || !crd.metadata?.name) continue;
      const path = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`;
      const res = await api.apply(path, crd, FIELD_MANAGER, '&force=true');
      if (res.status >= 300) {
        throw new Error(
          `test cluster: applying CRD ${crd.metadata.name} (${file}): HTTP ${res.status}: ${statusMessage(res)}`,
        );
      }
      names.push(crd.metadata.name);
    }
  }
  await Promise.all(
    names.map((name) =>
      waitUntil(
        `CRD ${name} Established`,
        async () => {
          const res = await api.request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
          return conditionTrue(res.json, 'Established') ? true : undefined;
        },
        timeoutMs,
        watched,
      ),
    ),
  );
  return names;
}

export async function startTestCluster(opts: StartTestClusterOptions = {}): Promise<TestCluster> {
  const layout = requireBuild();
  const log = opts.log ?? (() => undefined);
  const timeoutMs = opts.readyTimeoutMs ?? 180_000;
  const detached = opts.detached ?? false;
  const nodeCount = opts.nodes ?? 3;
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'sprincube-cluster-')));
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const logs = join(stateDir, 'logs');
  await mkdir(logs, { recursive: true });
  const bin = (name: Binary) => join(layout.bin, name);

  const components: Component[] = [];
  const killAll = () => {
    for (const component of components) component.killNow();
  };
  if (!detached) process.on('exit', killAll);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const component of [...components].reverse()) await component.stop();
    process.off('exit', killAll);
    api?.close();
    await rm(stateDir, { recursive: true, force: true });
  };

  let api: ClusterApi | undefined;
  try {
    log(`test cluster: certificates in ${stateDir}/pki`);
    const pki = await makeClusterPki(join(stateDir, 'pki'));
    const free = await distinctFreeLoopbackPorts(6);
    const ports: Ports = {
      etcdClient: free[0]!,
      etcdPeer: free[1]!,
      apiServer: free[2]!,
      controllerManager: free[3]!,
      scheduler: free[4]!,
      kwok: free[5]!,
    };
    const server = `https://127.0.0.1:${ports.apiServer}`;
    const component = (name: string, command: string, args: string[]) => {
      const c = new Component(name, command, args, join(logs, `${name}.log`), detached);
      components.push(c);
      return c;
    };

    const etcdClientUrl = `http://127.0.0.1:${ports.etcdClient}`;
    const etcdPeerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    const etcd = component('etcd', bin('etcd'), [
      '--name=default',
      `--data-dir=${join(stateDir, 'etcd')}`,
      `--listen-client-urls=${etcdClientUrl}`,
      `--advertise-client-urls=${etcdClientUrl}`,
      `--listen-peer-urls=${etcdPeerUrl}`,
      `--initial-advertise-peer-urls=${etcdPeerUrl}`,
      `--initial-cluster=default=${etcdPeerUrl}`,
      '--initial-cluster-state=new',
      // A throwaway test store on a shared disk: durability is not what is tested.
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ]);
    log('test cluster: etcd');
    etcd.start();
    await waitUntil('etcd /health', () => httpOk(`${etcdClientUrl}/health`), timeoutMs, [etcd]);

    const apiServer = component('kube-apiserver', bin('kube-apiserver'), [
      `--etcd-servers=${etcdClientUrl}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--secure-port=${ports.apiServer}`,
      `--cert-dir=${join(stateDir, 'apiserver')}`,
      `--tls-cert-file=${pki.apiServer.cert}`,
      `--tls-private-key-file=${pki.apiServer.key}`,
      `--client-ca-file=${pki.ca.cert}`,
      '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
      `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
      '--allow-privileged=true',
      '--profiling=false',
      // The aggregation layer's request-header authentication, which the other components read.
      `--requestheader-client-ca-file=${pki.frontProxyCa.cert}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${pki.frontProxyClient.cert}`,
      `--proxy-client-key-file=${pki.frontProxyClient.key}`,
      // Endpoints may not hold a loopback address, so the API server cannot publish itself as the
      // `kubernetes` Service's endpoint: no pod here would reach it anyway (KWOK runs no container).
      '--endpoint-reconciler-type=none',
      // Close open watches on SIGTERM instead of waiting out the 60 s request timeout for them.
      '--shutdown-watch-termination-grace-period=2s',
    ]);
    log('test cluster: kube-apiserver');
    apiServer.start();
    const adminApi = new ClusterApi(server, { ca: pki.ca.cert, cert: pki.admin.cert, key: pki.admin.key });
    api = adminApi;
    const apiReady = () =>
      waitUntil(
        'kube-apiserver /readyz',
        async () => {
          const res = await adminApi.request('GET', '/readyz', undefined, undefined, 5000);
          return res.status === 200 && res.text.trim() === 'ok' ? true : undefined;
        },
        timeoutMs,
        [etcd, apiServer],
      );
    await apiReady();

    const kubeconfigPath = join(stateDir, 'kubeconfig.yaml');
    await writeKubeconfig(
      kubeconfigPath,
      server,
      pki.ca.cert,
      { 'client-certificate-data': await pemData(pki.admin.cert), 'client-key-data': await pemData(pki.admin.key) },
      'sprincube-canary-admin',
    );
    await componentKubeconfig(stateDir, 'controller-manager', server, pki, 'controllerManager');
    await componentKubeconfig(stateDir, 'scheduler', server, pki, 'scheduler');
    await componentKubeconfig(stateDir, 'kwok', server, pki, 'kwok');
    const cmKubeconfig = join(stateDir, 'controller-manager.kubeconfig');
    const schedulerKubeconfig = join(stateDir, 'scheduler.kubeconfig');

    const controllerManager = component('kube-controller-manager', bin('kube-controller-manager'), [
      `--kubeconfig=${cmKubeconfig}`,
      `--authentication-kubeconfig=${cmKubeconfig}`,
      `--authorization-kubeconfig=${cmKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.controllerManager}`,
      `--cert-dir=${join(stateDir, 'controller-manager')}`,
      `--tls-cert-file=${pki.controllerManagerServing.cert}`,
      `--tls-private-key-file=${pki.controllerManagerServing.key}`,
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.ca.cert}`,
      '--use-service-account-credentials=true',
      `--cluster-signing-cert-file=${pki.ca.cert}`,
      `--cluster-signing-key-file=${pki.ca.key}`,
      // Every controller but the three that need a cloud provider (none is configured here).
      '--controllers=*,-service-lb-controller,-node-route-controller,-cloud-node-lifecycle-controller',
      '--cluster-name=sprincube-test',
      '--leader-elect=false',
      // KWOK's heartbeat comes every 20-45 s; leave room on two busy cores before a node is NotReady.
      '--node-monitor-grace-period=120s',
    ]);
    const scheduler = component('kube-scheduler', bin('kube-scheduler'), [
      `--kubeconfig=${schedulerKubeconfig}`,
      `--authentication-kubeconfig=${schedulerKubeconfig}`,
      `--authorization-kubeconfig=${schedulerKubeconfig}`,
      '--bind-address=127.0.0.1',
      `--secure-port=${ports.scheduler}`,
      `--cert-dir=${join(stateDir, 'scheduler')}`,
      `--tls-cert-file=${pki.schedulerServing.cert}`,
      `--tls-private-key-file=${pki.schedulerServing.key}`,
      '--leader-elect=false',
    ]);
    const kwokConfigPath = join(stateDir, 'kwok.yaml');
    await kwokConfig(layout, kwokConfigPath);
    const kwok = component('kwok', bin('kwok'), [
      `--kubeconfig=${join(stateDir, 'kwok.kubeconfig')}`,
      `--config=${kwokConfigPath}`,
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      `--server-address=127.0.0.1:${ports.kwok}`,
      // Labels the fake nodes and pods carry; nothing is reached at them.
      '--node-ip=10.240.0.1',
      '--cidr=10.244.0.0/16',
    ]);
    log('test cluster: kube-controller-manager, kube-scheduler, kwok');
    controllerManager.start();
    scheduler.start();
    kwok.start();

    const all = [etcd, apiServer, controllerManager, scheduler, kwok];
    const crdsInstalled = installCrds(adminApi, layout, timeoutMs, all);
    // Awaited below; a failure before then (creating the nodes) must not leave it unhandled.
    crdsInstalled.catch(() => undefined);
    const nodeNames = Array.from({ length: nodeCount }, (_, i) => `kwok-node-${i}`);
    for (const [i, name] of nodeNames.entries()) {
      const res = await adminApi.apply(`/api/v1/nodes/${name}`, fakeNode(name, `zone-${'abc'[i % 3]}`), FIELD_MANAGER);
      if (res.status >= 300)
        throw new Error(`test cluster: creating node ${name}: HTTP ${res.status}: ${statusMessage(res)}`);
    }
    // Health of the components that only talk to the API server; also used after a restart of it.
    const probeCa = { ca: pki.ca.cert };
    const tlsHealth = async (port: number) => {
      const probe = new ClusterApi(`https://127.0.0.1:${port}`, probeCa);
      try {
        return (await probe.request('GET', '/healthz', undefined, undefined, 5000)).status === 200 ? true : undefined;
      } finally {
        probe.close();
      }
    };
    const clients = new Map<Component, () => Promise<true | undefined>>([
      [controllerManager, () => tlsHealth(ports.controllerManager)],
      [scheduler, () => tlsHealth(ports.scheduler)],
      [kwok, () => httpOk(`http://127.0.0.1:${ports.kwok}/healthz`)],
    ]);
    const clientsHealthy = () =>
      Promise.all([...clients].map(([c, probe]) => waitUntil(`${c.name} /healthz`, probe, timeoutMs, all)));
    const objectExists = (path: string) => async () =>
      (await adminApi.request('GET', path)).status === 200 ? true : undefined;
    await Promise.all([
      crdsInstalled,
      clientsHealthy(),
      waitUntil(
        `${nodeCount} nodes Ready`,
        async () => {
          const res = await adminApi.expectOk('GET', '/api/v1/nodes');
          const items = (res.json as { items: unknown[] }).items;
          const ready = items.filter((node) => conditionTrue(node, 'Ready'));
          return ready.length >= nodeCount ? true : undefined;
        },
        timeoutMs,
        all,
      ),
      // The controller-manager's /healthz answers before it has started its controllers: wait for
      // the work of two of them (ServiceAccounts, the root CA publisher) in the default namespace.
      waitUntil(
        'ServiceAccount default/default',
        objectExists('/api/v1/namespaces/default/serviceaccounts/default'),
        timeoutMs,
        all,
      ),
      waitUntil(
        'ConfigMap default/kube-root-ca.crt',
        objectExists('/api/v1/namespaces/default/configmaps/kube-root-ca.crt'),
        timeoutMs,
        all,
      ),
    ]);

    const pids = () =>
      Object.fromEntries(components.map((c) => [c.name, c.child?.pid ?? -1])) as Record<string, number>;
    const writeState = async () => {
      const state: ClusterState = { server, kubeconfig: kubeconfigPath, build: layout.dir, ports, pids: pids() };
      await writeFile(join(stateDir, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
    };
    await writeState();

    const namespace = async (name: string) => {
      const res = await adminApi.apply(
        `/api/v1/namespaces/${name}`,
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
        FIELD_MANAGER,
      );
      if (res.status >= 300)
        throw new Error(`test cluster: namespace ${name}: HTTP ${res.status}: ${statusMessage(res)}`);
      await waitUntil(
        `ServiceAccount ${name}/default`,
        async () =>
          (await adminApi.request('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`)).status === 200
            ? true
            : undefined,
        timeoutMs,
        all,
      );
    };

    log(`test cluster: ready at ${server}`);
    return {
      kubeconfigPath,
      server,
      stateDir,
      api: adminApi,
      pids,
      stop,
      namespace,
      async restartApiServer() {
        await apiServer.stop();
        apiServer.start();
        await apiReady();
        // As a supervisor would: a client component that gave up while the API server was away
        // (kube-controller-manager exits if it is still starting its controllers) starts again.
        for (const c of clients.keys()) {
          if (!c.running) {
            log(`test cluster: ${c.failure()}\ntest cluster: starting ${c.name} again`);
            c.start();
          }
        }
        await clientsHealthy();
        if (detached) await writeState();
      },
      async runAs(serviceAccount: string, ns: string) {
        const res = await adminApi.expectOk(
          'POST',
          `/api/v1/namespaces/${ns}/serviceaccounts/${serviceAccount}/token`,
          { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
        );
        const token = (res.json as { status?: { token?: string } }).status?.token;
        if (!token) throw new Error(`test cluster: TokenRequest for ${ns}/${serviceAccount} returned no token`);
        const path = join(stateDir, `kubeconfig-${ns}-${serviceAccount}.yaml`);
        await writeKubeconfig(path, server, pki.ca.cert, { token }, `system:serviceaccount:${ns}:${serviceAccount}`);
        return path;
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Reads state.json of a detached cluster, or undefined when there is none. */
export async function readClusterState(stateDir: string): Promise<ClusterState | undefined> {
  const path = join(stateDir, 'state.json');
  if (!existsSync(path)) return undefined;
  return JSON.parse(await readFile(path, 'utf8')) as ClusterState;
}

/** Whether `pid` is alive and runs a program of the given build folder (so a reused id is never signalled). */
function isOurs(pid: number, buildDir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.startsWith(join(buildDir, 'bin'));
  } catch {
    return false;
  }
}

/** Ends the processes listed in a detached cluster's state.json (KWOK first, etcd last) and removes its folder. */
export async function stopDetachedCluster(stateDir: string, graceMs = 15_000): Promise<string[]> {
  const state = await readClusterState(stateDir);
  const stoppedNames: string[] = [];
  if (state) {
    for (const [name, pid] of Object.entries(state.pids).reverse()) {
      if (pid <= 0 || !isOurs(pid, state.build)) continue;
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + graceMs;
      while (isOurs(pid, state.build) && Date.now() < deadline) await delay(100);
      if (isOurs(pid, state.build)) process.kill(pid, 'SIGKILL');
      while (isOurs(pid, state.build)) await delay(50);
      stoppedNames.push(name);
    }
  }
  await rm(stateDir, { recursive: true, force: true });
  return stoppedNames;
}
