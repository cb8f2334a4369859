/**
 * A network namespace with a veth pair, for tests that need real traffic on a
 * real interface without touching anyone else's:
 *
 *   root namespace                     namespace twd-<random>
 *   twd<hex>h  10.77.2.(b+1)/27  <──veth──>  twd<hex>n  10.77.2.(b+2)/27
 *                                                       + extra source addresses
 *
 * b is a free /27 of 10.77.2.0/24 (checked against the addresses already on
 * this machine, so concurrent runs do not collide). IPv6 is disabled on both
 * ends so the capture sees only what the test sends (no router solicitations
 * or MLD). destroy() deletes the host end (which takes the peer with it) and
 * the namespace, and kills what was started inside it by PID; it is safe to
 * call twice and is also registered on process exit.
 *
 * Traffic helpers are bounded in count and in time: connectBurst() (TCP
 * connection attempts from chosen source addresses, answered by RST from the
 * host's kernel since nothing listens), nmapScan(), dig().
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';

export const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;
export const HAVE_IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].some((p) => fs.existsSync(p));

export function which(tool: string): string | null {
  for (const d of ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/bin', '/usr/local/sbin']) {
    if (fs.existsSync(`${d}/${tool}`)) return `${d}/${tool}`;
  }
  return null;
}

function ip(...args: string[]): string {
  return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000, encoding: 'utf8' });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const live = new Set<Netns>();
process.once('exit', () => {
  for (const n of live) n.destroySync();
});

export class Netns {
  readonly name: string;
  readonly hostIf: string;
  readonly nsIf: string;
  readonly hostIp: string;
  readonly nsIp: string;
  /** further addresses on the namespace end, for traffic from distinct sources */
  readonly extra: string[];
  readonly prefix = 27;
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(name: string, hostIf: string, nsIf: string, base: number, extra: number) {
    this.name = name;
    this.hostIf = hostIf;
    this.nsIf = nsIf;
    this.hostIp = `10.77.2.${base + 1}`;
    this.nsIp = `10.77.2.${base + 2}`;
    this.extra = Array.from({ length: extra }, (_, i) => `10.77.2.${base + 10 + i}`);
  }

  /**
   * Creates the namespace and the veth pair (needs root). `extraSources`
   * (≤ 20) more addresses go on the namespace end.
   */
  static create(opts: { extraSources?: number } = {}): Netns {
    const extra = Math.min(opts.extraSources ?? 0, 20);
    const used = ip('-4', '-o', 'addr', 'show');
    const free = [0, 32, 64, 96, 128, 160, 192, 224].filter((b) => {
      for (const m of used.matchAll(/inet 10\.77\.2\.(\d+)\//g)) {
        const o = Number(m[1]);
        if (o >= b && o < b + 32) return false;
      }
      return true;
    });
    if (free.length === 0) throw new Error('no free /27 in 10.77.2.0/24 on this machine');
    const base = free[Math.floor(Math.random() * free.length)]!;
    const id = randomBytes(3).toString('hex');
    const n = new Netns(`twd-${id}`, `twd${id}h`, `twd${id}n`, base, extra);
    live.add(n);
    try {
      ip('netns', 'add', n.name);
      ip('link', 'add', n.hostIf, 'type', 'veth', 'peer', 'name', n.nsIf, 'netns', n.name);
      sysctl(`net.ipv6.conf.${n.hostIf}.disable_ipv6=1`);
      try { n.exec('sysctl', ['-qw', `net.ipv6.conf.${n.nsIf}.disable_ipv6=1`]); } catch { /* no IPv6: fine */ }
      ip('addr', 'add', `${n.hostIp}/${n.prefix}`, 'dev', n.hostIf);
      ip('link', 'set', n.hostIf, 'up');
      n.exec('ip', ['addr', 'add', `${n.nsIp}/${n.prefix}`, 'dev', n.nsIf]);
      for (const a of n.extra) n.exec('ip', ['addr', 'add', `${a}/${n.prefix}`, 'dev', n.nsIf]);
      n.exec('ip', ['link', 'set', 'lo', 'up']);
      n.exec('ip', ['link', 'set', n.nsIf, 'up']);
      // carrier on both ends before anyone captures or sends
      const end = Date.now() + 5_000;
      while (!/LOWER_UP/.test(ip('link', 'show', n.hostIf))) {
        if (Date.now() > end) throw new Error(`${n.hostIf}: no carrier after 5 s`);
        execFileSync('sleep', ['0.05']);
      }
    } catch (e) {
      n.destroySync();
      throw e;
    }
    return n;
  }

  /** Runs a command inside the namespace, synchronously (bounded by timeoutMs). */
  exec(cmd: string, args: string[], timeoutMs = 10_000): string {
    return execFileSync('ip', ['netns', 'exec', this.name, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      encoding: 'utf8',
    });
  }

  /** Runs a command inside the namespace; killed (SIGKILL, by PID) after timeoutMs. */
  run(cmd: string, args: string[], timeoutMs = 20_000): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', this.name, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      this.children.add(child);
      let stdout = '';
      let stderr = '';
      let timedOut = false;
      child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
      const t = setTimeout(() => {
        timedOut = true;
        if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(t);
        this.children.delete(child);
        reject(e);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(t);
        this.children.delete(child);
        resolve({ code, signal, stdout, stderr, timedOut });
      });
    });
  }

  /**
   * TCP connection attempts from inside the namespace: for each source
   * address, `count` connects to `dst` on ports portFrom.. (nothing listens,
   * so the host's kernel answers each SYN with a RST). All at once per source
   * (well inside one second), sources one after the other with `gapMs`
   * between them. Bounded: at most 2000 attempts per source, 15 s in all.
   */
  async connectBurst(opts: { sources: string[]; dst?: string; count: number; portFrom?: number; gapMs?: number }): Promise<{ attempts: number; refused: number; other: number }> {
    const count = Math.min(opts.count, 2000);
    // never knock on a port someone listens on in the root namespace (the host end lives there)
    const busy = listeningTcpPorts();
    const ports: number[] = [];
    for (let p = opts.portFrom ?? 1000; ports.length < count && p < 65536; p++) if (!busy.has(p)) ports.push(p);
    const script = `
      const net = require('node:net');
      const sources = ${JSON.stringify(opts.sources)}, dst = ${JSON.stringify(opts.dst ?? this.hostIp)};
      const ports = ${JSON.stringify(ports)}, count = ports.length, gap = ${opts.gapMs ?? 0};
      const deadline = Date.now() + 15000;
      let attempts = 0, refused = 0, other = 0;
      const burst = (src) => new Promise((resolve) => {
        let left = count;
        for (let i = 0; i < count; i++) {
          attempts++;
          const s = net.createConnection({ host: dst, port: ports[i], localAddress: src });
          const done = () => { s.destroy(); if (--left === 0) resolve(); };
          s.setTimeout(3000, () => { other++; done(); });
          s.once('connect', () => { other++; done(); });
          s.once('error', (e) => { if (e.code === 'ECONNREFUSED') refused++; else other++; done(); });
        }
      });
      (async () => {
        for (const src of sources) {
          if (Date.now() > deadline) break;
          await burst(src);
          if (gap) await new Promise((r) => setTimeout(r, gap));
        }
        process.stdout.write(JSON.stringify({ attempts, refused, other }));
      })();`;
    const r = await this.run(process.execPath, ['-e', script], 20_000);
    if (r.code !== 0) throw new Error(`connect burst failed (exit ${r.code}${r.timedOut ? ', timed out' : ''}): ${r.stderr}`);
    return JSON.parse(r.stdout) as { attempts: number; refused: number; other: number };
  }

  /**
   * nmap SYN scan of `count` ports (from 1, skipping ports someone listens on
   * in the root namespace) of the host end, from the namespace (bounded:
   * --max-retries 0, 20 s).
   */
  async nmapScan(count = 300, extra: string[] = []): Promise<RunResult & { ports: number }> {
    const busy = listeningTcpPorts();
    const ports: number[] = [];
    for (let p = 1; ports.length < count; p++) if (!busy.has(p)) ports.push(p);
    const r = await this.run('nmap', ['-sS', '-Pn', '-n', '-T4', '--max-retries', '0', '-p', ports.join(','), ...extra, this.hostIp], 20_000);
    return { ...r, ports: ports.length };
  }

  /** One DNS query from the namespace to the host end (nothing need listen: the query itself is the event). */
  async dig(name: string, type = 'A'): Promise<RunResult> {
    return this.run('dig', [`@${this.hostIp}`, name, type, '+tries=1', '+time=1'], 5_000);
  }

  /** Kills what was started inside (by PID), deletes the veth pair and the namespace. Idempotent. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.children) {
      if (c.pid && c.exitCode === null && c.signalCode === null) {
        try { process.kill(c.pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    try { ip('link', 'del', this.hostIf); } catch { /* gone, or never made */ }
    try { ip('netns', 'del', this.name); } catch { /* gone, or never made */ }
    live.delete(this);
  }

  async destroy(): Promise<void> {
    this.destroySync();
  }
}

/** TCP ports in LISTEN state in this (the root) namespace */
export function listeningTcpPorts(): Set<number> {
  const out = new Set<number>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') out.add(parseInt(cols[1]!.split(':')[1]!, 16));
    }
  }
  return out;
}

function sysctl(expr: string): void {
  try {
    execFileSync('sysctl', ['-qw', expr], { stdio: 'ignore', timeout: 5_000 });
  } catch { /* not fatal: IPv6 may be absent */ }
}
