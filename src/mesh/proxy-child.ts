/**
 * One child process of the local mesh as the supervisor sees it: forked with the tsx loader (no build
 * step), started with its ChildSpec, then configured over IPC. Keeps the last lines the child wrote so
 * a failure can say why.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InfraError } from '../core/errors.ts';
import type { ProxyConfig } from './config.ts';
import type { ChildMessage, ChildSpec, SupervisorMessage } from './ipc.ts';

const WORKLOAD_MAIN = fileURLToPath(new URL('./workload-main.ts', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TAIL_LINES = 20;

export class ChildStartError extends InfraError {
  constructor(
    message: string,
    readonly reason: 'port-in-use' | 'config' | 'error' | 'exit' | 'timeout',
  ) {
    super(message);
  }
}

export interface ChildExit {
  code: number | null;
  signal: string | null;
}

export class ProxyChild {
  readonly process: ChildProcess;
  url = '';
  metricsUrl = '';
  /** Settles when the child has exited. */
  readonly exited: Promise<ChildExit>;
  private readonly tail: string[] = [];
  private readonly pendingAcks = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private exitInfo: ChildExit | undefined;

  constructor(
    readonly name: string,
    readonly spec: ChildSpec,
    env: NodeJS.ProcessEnv,
    log: (line: string) => void,
  ) {
    this.process = fork(WORKLOAD_MAIN, [], {
      execArgv: ['--import', TSX_LOADER],
      env,
      // A process group of its own: a signal to the harness's group (docker stop, systemd, Ctrl-C) reaches
      // the harness only, which makes the route safe before it stops the children. The child still
      // follows the harness when the harness dies (the IPC channel closes, workload-main.ts).
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const onOutput = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line) continue;
        this.tail.push(line);
        if (this.tail.length > TAIL_LINES) this.tail.shift();
        log(`[${name}] ${line}`);
      }
    };
    this.process.stdout?.on('data', onOutput);
    this.process.stderr?.on('data', onOutput);
    this.exited = new Promise((resolve) => {
      this.process.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        for (const p of this.pendingAcks.values())
          p.reject(new InfraError(`${name} exited (${describe(this.exitInfo)}) before applying the configuration`));
        this.pendingAcks.clear();
        resolve(this.exitInfo);
      });
    });
    this.process.on('message', (raw: unknown) => {
      const m = raw as ChildMessage;
      if (m.type === 'ack' || m.type === 'nack') {
        const p = this.pendingAcks.get(m.id);
        this.pendingAcks.delete(m.id);
        if (m.type === 'ack') p?.resolve();
        else p?.reject(new InfraError(`${name} rejected the configuration: ${m.message}`));
      }
    });
    // An IPC write to a child that just died reports an error here instead of crashing the supervisor.
    this.process.on('error', () => {});
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  /** Sends the spec and resolves once the child listens; rejects with the reason otherwise. */
  start(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        reject(new ChildStartError(`${this.name} did not start within ${timeoutMs} ms${this.tailText()}`, 'timeout'));
      }, timeoutMs);
      const onMessage = (raw: unknown): void => {
        const m = raw as ChildMessage;
        if (m.type === 'ready') {
          this.url = m.url;
          this.metricsUrl = m.metricsUrl;
          cleanup();
          resolve();
        } else if (m.type === 'failed') {
          cleanup();
          reject(new ChildStartError(`${this.name}: ${m.message}`, m.reason));
        }
      };
      const onExit = (code: number | null, signal: string | null): void => {
        cleanup();
        reject(
          new ChildStartError(
            `${this.name} exited while starting (${describe({ code, signal })})${this.tailText()}`,
            'exit',
          ),
        );
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        this.process.off('message', onMessage);
        this.process.off('exit', onExit);
      };
      this.process.on('message', onMessage);
      this.process.once('exit', onExit);
      this.send({ type: 'start', spec: this.spec });
    });
  }

  configure(id: number, config: ProxyConfig, timeoutMs: number): Promise<void> {
    if (!this.alive) return Promise.reject(new InfraError(`${this.name} is not running (${describe(this.exitInfo!)})`));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pendingAcks.delete(id);
        reject(new InfraError(`${this.name} did not acknowledge configuration ${id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pendingAcks.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.send({ type: 'config', id, config });
    });
  }

  /** Asks the child to stop, and kills it if it has not exited within `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    if (!this.alive) return;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (this.alive) this.process.kill('SIGKILL');
  }

  private send(m: SupervisorMessage): void {
    if (this.process.connected) this.process.send(m);
  }

  private tailText(): string {
    return this.tail.length ? `; its last output:\n  ${this.tail.join('\n  ')}` : '';
  }
}

function describe(e: ChildExit): string {
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
}
