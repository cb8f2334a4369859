/**
 * A real rsyslogd for integration tests (the approach of
 * test/integration/syslog.test.ts, shared): each instance gets its own config,
 * pid file, work directory and output file in a temp dir, listens on
 * 127.0.0.1 only (UDP and TCP, plus an imptcp unix socket), and is stopped by
 * the PID we started — never by name.
 *
 * Every message is written to `out` as one line of tab-separated fields
 * (input, pri, timereported, hostname, app-name, procid, msgid,
 * structured-data, the structured data parsed by mmpstrucdata as JSON, msg,
 * rawmsg); records() parses them back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

export const RSYSLOGD = '/usr/sbin/rsyslogd';
export const HAVE_RSYSLOGD = fs.existsSync(RSYSLOGD);

/** A TCP port free on 127.0.0.1 right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export function canConnect(opts: net.NetConnectOpts): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(opts);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** tab-separated fields written by the rsyslog template */
export interface RsyslogRecord {
  input: string;
  pri: string;
  time: string;
  host: string;
  app: string;
  procid: string;
  msgid: string;
  sd: string;
  sdJson: string;
  msg: string;
  raw: string;
}
const FIELDS: Array<keyof RsyslogRecord> = ['input', 'pri', 'time', 'host', 'app', 'procid', 'msgid', 'sd', 'sdJson', 'msg', 'raw'];
const PROPERTY: Record<keyof RsyslogRecord, string> = {
  input: 'inputname',
  pri: 'pri',
  time: 'timereported',
  host: 'hostname',
  app: 'app-name',
  procid: 'procid',
  msgid: 'msgid',
  sd: 'structured-data',
  sdJson: '$!rfc5424-sd',
  msg: 'msg',
  raw: 'rawmsg',
};

export class Rsyslog {
  readonly dir: string;
  readonly out: string;
  readonly conf: string;
  readonly sock: string;
  /** a unix DATAGRAM socket like /dev/log (imuxsock) */
  readonly dgram: string;
  readonly pidFile: string;
  proc: ChildProcess | null = null;
  stderr = '';

  constructor(
    root: string,
    readonly udpPort: number,
    readonly tcpPort: number,
  ) {
    this.dir = fs.mkdtempSync(path.join(root, 'rsyslog-'));
    this.out = path.join(this.dir, 'out.log');
    this.sock = path.join(this.dir, 'tapwatch.sock');
    this.dgram = path.join(this.dir, 'devlog.sock');
    this.conf = path.join(this.dir, 'rsyslog.conf');
    this.pidFile = path.join(this.dir, 'rsyslogd.pid');
    const props = FIELDS.map((f) => `  property(name="${PROPERTY[f]}"${f === 'time' ? ' dateFormat="rfc3339"' : ''})`).join(
      ' constant(value="\\t")\n',
    );
    fs.writeFileSync(
      this.conf,
      `global(workDirectory="${this.dir}" maxMessageSize="64k")
module(load="imudp")
module(load="imtcp")
module(load="imptcp")
module(load="mmpstrucdata")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="${this.dgram}" UseSpecialParser="off" ParseHostname="on" IgnoreOwnMessages="off")
input(type="imudp" address="127.0.0.1" port="${udpPort}")
input(type="imtcp" address="127.0.0.1" port="${tcpPort}")
input(type="imptcp" path="${this.sock}" unlink="on")
template(name="tw" type="list") {
${props} constant(value="\\n")
}
action(type="mmpstrucdata")
action(type="omfile" file="${this.out}" template="tw")
`,
    );
  }

  /** An rsyslogd on fresh free ports under `root`, started. */
  static async start(root: string): Promise<Rsyslog> {
    const r = new Rsyslog(root, await freePort(), await freePort());
    await r.start();
    return r;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<void> {
    fs.rmSync(this.pidFile, { force: true });
    const p = spawn(RSYSLOGD, ['-n', '-f', this.conf, '-i', this.pidFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = p;
    p.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    p.stdout!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    await until(
      () => p.exitCode !== null || (fs.existsSync(this.sock) && fs.existsSync(this.dgram) && fs.existsSync(this.pidFile)),
      10_000,
      'rsyslogd to start',
    );
    if (p.exitCode !== null) throw new Error(`rsyslogd exited ${p.exitCode}: ${this.stderr}`);
    // the TCP listener may come up a moment after the unix socket
    const end = Date.now() + 10_000;
    while (!(await canConnect({ host: '127.0.0.1', port: this.tcpPort }))) {
      if (Date.now() > end) throw new Error(`rsyslogd not listening on tcp ${this.tcpPort}: ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** SIGTERM to the rsyslogd we started, by PID, and wait for it to exit (SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    process.kill(p.pid!, 'SIGTERM');
    const t = setTimeout(() => p.exitCode === null && p.signalCode === null && process.kill(p.pid!, 'SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
    this.proc = null;
  }

  records(): RsyslogRecord[] {
    if (!fs.existsSync(this.out)) return [];
    return fs
      .readFileSync(this.out, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const parts = line.split('\t');
        return Object.fromEntries(FIELDS.map((f, i) => [f, parts[i] ?? ''])) as unknown as RsyslogRecord;
      });
  }

  /** the tapwatch@32473 SD element of a record, as rsyslog's mmpstrucdata parsed it (null if none) */
  static sd(r: RsyslogRecord): Record<string, string> | null {
    try {
      const j = JSON.parse(r.sdJson) as Record<string, Record<string, string>>;
      return j['tapwatch@32473'] ?? null;
    } catch {
      return null;
    }
  }
}
