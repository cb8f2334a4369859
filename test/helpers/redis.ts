/**
 * A private redis-server for tests: unix socket and data in a temp dir, no
 * TCP port, append-only file fsync'd on every write (so a stop and restart
 * keeps the stream). Started and stopped by PID; stop() then start() again
 * is a restart of the same server with the same data.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { which } from './netns.js';

export const REDIS_SERVER = which('redis-server');

export class RedisServer {
  readonly socket: string;
  private proc: ChildProcess | null = null;

  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.socket = path.join(dir, 'redis.sock');
  }

  get url(): string { return `unix://${this.socket}`; }
  get pid(): number | undefined { return this.proc?.pid; }

  async start(): Promise<void> {
    const p = spawn(REDIS_SERVER!, [
      '--port', '0', '--unixsocket', this.socket, '--unixsocketperm', '700', '--dir', this.dir,
      '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no', '--logfile', path.join(this.dir, 'redis.log'),
    ], { stdio: 'ignore' });
    this.proc = p;
    const end = Date.now() + 10_000;
    while (!fs.existsSync(this.socket)) {
      if (p.exitCode !== null) throw new Error(`redis-server exited ${p.exitCode}: ${fs.readFileSync(path.join(this.dir, 'redis.log'), 'utf8').slice(-2000)}`);
      if (Date.now() > end) throw new Error('redis-server: no socket after 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGTERM (redis finishes the AOF and exits), waits for the exit; SIGKILL after 5 s */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    process.kill(p.pid!, 'SIGTERM');
    const t = setTimeout(() => { try { process.kill(p.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5_000);
    await exited;
    clearTimeout(t);
    this.proc = null;
  }

  kill(): void {
    const p = this.proc;
    if (p && p.exitCode === null && p.signalCode === null) { try { process.kill(p.pid!, 'SIGKILL'); } catch { /* gone */ } }
  }
}
