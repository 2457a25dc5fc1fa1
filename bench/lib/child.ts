import { fork, type ChildProcess } from 'node:child_process';

/** A child process spoken to over IPC, with deadlines on every answer. */
export class Child {
  private readonly inbox: any[] = [];
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<void>;

  constructor(
    readonly proc: ChildProcess,
    readonly label: string,
  ) {
    proc.on('message', (message) => {
      this.inbox.push(message);
      for (const check of [...this.waiters]) check();
    });
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  /**
   * Forks a TypeScript module (run through tsx) with an IPC channel; its
   * stdout and stderr go to ours. `BENCH_CPU_PROF_CHILDREN=<dir>` writes a CPU
   * profile of each child there (where the simulated clients' time goes).
   */
  static forkTs(file: string, label: string, env: Record<string, string> = {}): Child {
    const dir = process.env.BENCH_CPU_PROF_CHILDREN;
    const proc = fork(file, [], {
      execArgv: ['--import', 'tsx', ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [])],
      env: { ...process.env, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Child(proc, label);
  }

  /** Sends `message` and resolves with the first reply of `type` (rejects after `timeoutMs`). */
  ask<T = any>(message: object, type: string, timeoutMs: number): Promise<T> {
    this.proc.send(message);
    return this.next<T>(type, timeoutMs);
  }

  /** Sends without waiting for an answer. */
  tell(message: object): void {
    this.proc.send(message);
  }

  /** The next message of `type` (already received or still to come); an `error` message rejects. */
  next<T = any>(type: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const failed = this.inbox.findIndex((m) => m.type === 'error');
        if (failed !== -1) {
          const [m] = this.inbox.splice(failed, 1);
          done();
          reject(new Error(`${this.label}: ${m.message}`));
          return;
        }
        const i = this.inbox.findIndex((m) => m.type === type);
        if (i === -1) return;
        const [m] = this.inbox.splice(i, 1);
        done();
        resolve(m);
      };
      const done = () => {
        this.waiters.delete(check);
        clearTimeout(timer);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.label}: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Asks the child to exit (it does when the IPC channel closes), and kills it if it does not within 3 s. */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      if (this.proc.connected) this.proc.disconnect();
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

/**
 * The child's side: handles each message with `handler` and replies with
 * what it returns (`{ type, ...}`), or `{ type: 'error', message }` when it
 * throws. Exits when the parent disconnects.
 */
export function serveParent(handler: (message: any) => Promise<object | void> | object | void): void {
  const send = (message: object) => process.send?.(message);
  process.on('message', (message) => {
    Promise.resolve()
      .then(() => handler(message))
      .then((reply) => reply && send(reply))
      .catch((error: unknown) => send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
  });
  process.on('disconnect', () => process.exit(0));
}
