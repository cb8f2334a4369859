/**
 * Syslog sink: RFC 5424 (default) or RFC 3164 messages carrying a json
 * (default), ecs or cef payload, over
 *   udp://host[:514]          one datagram per message (RFC 5426), best effort;
 *                             optional spool on ICMP unreachable (see udp.ts)
 *   tcp://host[:514]          RFC 6587 octet counting "LEN SP MSG" (or LF
 *                             framing), spooled on disk while the server is
 *                             down or slow (see spool.ts)
 *   unix-stream:///path       same over a unix STREAM socket, e.g. rsyslog
 *                             imptcp `input(type="imptcp" path="/run/tapwatch.sock")`
 *
 *   unix:///dev/log          the local DATAGRAM socket (journald, rsyslog
 *                             imuxsock). Node and libuv have no unix datagram
 *                             sockets and `logger -u` would rewrite our header,
 *                             so the send comes from the project's own native
 *                             addon (see unix-dgram.ts); spooled while the
 *                             daemon is down or its queue is full
 *
 * Hostname: configurable, default os.hostname(). Facility: default local5.
 * Header TIMESTAMP: the alert's packet time (see syslog-format.ts).
 */
import { UnixDgramSender } from './unix-dgram.js';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Alert } from '../alerts/types.js';
import type { FormatContext } from '../alerts/format/context.js';
import { getFormatter } from '../alerts/format/index.js';
import { shrinkSteps } from '../alerts/shrink.js';
import type { AlertSink, PayloadFormat, SinkLogger } from './sink.js';
import { nullLogger } from './sink.js';
import { SpoolFile, SpoolingStreamSender } from './spool.js';
import type { FacilityName } from './syslog-format.js';
import { APP_NAME, RFC3164_MAX_BYTES, buildRfc3164, buildRfc5424, parseFacility } from './syslog-format.js';
import { UdpSender } from './udp.js';

export type SyslogTarget =
  | { transport: 'unix'; path: string }
  | { transport: 'udp'; host: string; port: number }
  | { transport: 'tcp'; host: string; port: number }
  | { transport: 'unix-stream'; path: string };

export const DEFAULT_SYSLOG_PORT = 514;

/** parse udp://host:port, tcp://host:port, unix-stream:///path; throws with a helpful message */
export function parseSyslogTarget(target: string): SyslogTarget {
  const m = /^([a-z-]+):\/\/(.*)$/i.exec(target.trim());
  if (!m) throw new Error(`syslog target "${target}": expected udp://host:port, tcp://host:port or unix-stream:///path`);
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'unix-stream') {
    if (!rest.startsWith('/')) throw new Error(`syslog target "${target}": unix-stream needs an absolute path`);
    return { transport: 'unix-stream', path: rest };
  }
  if (scheme === 'unix' || scheme === 'unix-dgram') {
    if (!rest.startsWith('/')) throw new Error(`syslog target "${target}": unix needs an absolute path, e.g. unix:///dev/log`);
    return { transport: 'unix', path: rest };
  }
  if (scheme !== 'udp' && scheme !== 'tcp') {
    throw new Error(`syslog target "${target}": unknown transport "${scheme}" (udp, tcp, unix, unix-stream)`);
  }
  let host: string;
  let portStr: string | undefined;
  const v6 = /^\[([^\]]+)\](?::(\d+))?\/?$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    portStr = v6[2];
  } else {
    const hp = /^([^:/[\]]+)(?::(\d+))?\/?$/.exec(rest);
    if (!hp) throw new Error(`syslog target "${target}": cannot parse host:port`);
    host = hp[1]!;
    portStr = hp[2];
  }
  const port = portStr === undefined ? DEFAULT_SYSLOG_PORT : Number(portStr);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`syslog target "${target}": bad port`);
  return { transport: scheme, host, port };
}

export interface SyslogSinkOptions {
  /** udp://host:port | tcp://host:port | unix-stream:///path */
  target: string;
  /** message format: rfc5424 (default) or rfc3164 */
  protocol?: 'rfc5424' | 'rfc3164';
  /** MSG payload: json (default), ecs or cef */
  format?: PayloadFormat;
  /** facility name (local0…local7, auth, daemon …) or number; default local5 */
  facility?: FacilityName | number | string;
  /** syslog HOSTNAME and ctx.hostname; default os.hostname() */
  hostname?: string;
  sensor: string;
  version: string;
  /** APP-NAME / TAG, default "tapwatch" */
  appName?: string;
  /** SD-ID, default tapwatch@32473 */
  sdId?: string;
  /** stream framing: octet-counting (RFC 6587 §3.4.1, default) or lf (§3.4.2) */
  framing?: 'octet-counting' | 'lf';
  /** cap per message in UTF-8 octets, MSG truncated (default 8192 = rsyslog's default; 1024 for rfc3164) */
  maxMessageBytes?: number;
  /**
   * directory for the on-disk spool (tcp, unix-stream; udp only when set).
   * Default for stream transports: $STATE_DIRECTORY/spool (systemd) or
   * <os tmpdir>/tapwatch-spool.
   */
  spoolDir?: string;
  /** spool bound (default 64 MiB) */
  spoolMaxBytes?: number;
  retryInitialMs?: number;
  retryMaxMs?: number;
  connectTimeoutMs?: number;
  /**
   * stream transports: after an unexpected disconnect, resend what was
   * confirmed within this many ms (duplicates instead of the loss of
   * messages the kernel accepted but the dying server never read); default 0
   */
  resendWindowMs?: number;
  logger?: SinkLogger;
}

export class SyslogSink implements AlertSink {
  readonly name: string;
  readonly target: SyslogTarget;
  private readonly fmt;
  private readonly ctx: FormatContext;
  private readonly build: (alert: Alert, msg: string) => string;
  private readonly sender: SpoolingStreamSender | UdpSender | UnixDgramSender;
  private truncated = 0;
  private shortened = 0;
  private oversize = 0;
  private readonly maxBytes: number;
  /** JSON payloads (json, ecs) must never be cut: a cut document is invalid */
  private readonly structured: boolean;
  private readonly log: SinkLogger;

  constructor(opts: SyslogSinkOptions) {
    this.target = parseSyslogTarget(opts.target);
    const protocol = opts.protocol ?? 'rfc5424';
    const format = opts.format ?? 'json';
    this.name = `syslog:${opts.target}`;
    this.fmt = getFormatter(format);
    this.structured = format !== 'cef';
    const hostname = opts.hostname ?? os.hostname();
    this.ctx = { hostname, sensor: opts.sensor, version: opts.version };
    const facility = parseFacility(opts.facility);
    this.maxBytes = opts.maxMessageBytes ?? (protocol === 'rfc3164' ? RFC3164_MAX_BYTES : 8192);
    const base = {
      facility,
      hostname,
      appName: opts.appName ?? APP_NAME,
      procId: process.pid,
      maxBytes: this.maxBytes,
      ...(opts.sdId !== undefined ? { sdId: opts.sdId } : {}),
    };
    this.build =
      protocol === 'rfc3164'
        ? (a, msg) => buildRfc3164(a, msg, base)
        : (a, msg) => buildRfc5424(a, msg, base);
    const logger = opts.logger ?? nullLogger;
    this.log = logger;
    const spoolName = spoolNameFor(this.target);
    const spoolDir = opts.spoolDir ?? defaultSpoolDir();
    const spoolOpts = {
      dir: spoolDir,
      name: spoolName,
      logger,
      ...(opts.spoolMaxBytes !== undefined ? { maxBytes: opts.spoolMaxBytes } : {}),
    };
    const retry = {
      ...(opts.retryInitialMs !== undefined ? { retryInitialMs: opts.retryInitialMs } : {}),
      ...(opts.retryMaxMs !== undefined ? { retryMaxMs: opts.retryMaxMs } : {}),
    };
    const t = this.target;
    if (t.transport === 'unix') {
      this.sender = new UnixDgramSender({ name: opts.target, path: t.path, spool: new SpoolFile(spoolOpts), logger, ...retry });
    } else if (t.transport === 'udp') {
      this.sender = new UdpSender({
        name: opts.target,
        host: t.host,
        port: t.port,
        logger,
        ...retry,
        ...(opts.spoolDir !== undefined ? { spool: new SpoolFile(spoolOpts) } : {}),
      });
    } else {
      const lf = opts.framing === 'lf';
      this.sender = new SpoolingStreamSender({
        name: opts.target,
        connect: () =>
          t.transport === 'tcp' ? net.createConnection({ host: t.host, port: t.port }) : net.createConnection({ path: t.path }),
        frame: lf ? (m) => m + '\n' : (m) => `${Buffer.byteLength(m)} ${m}`,
        spool: new SpoolFile(spoolOpts),
        logger,
        ...retry,
        ...(opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: opts.connectTimeoutMs } : {}),
        ...(opts.resendWindowMs !== undefined ? { resendWindowMs: opts.resendWindowMs } : {}),
      });
    }
  }

  /**
   * The exact message that write() sends for this alert. Over the size limit
   * (1024 octets for RFC 3164) the alert is shrunk, evidence first, until it
   * fits (counted as `shortened`); a JSON payload is never cut mid-document.
   * Null when even the smallest form does not fit a JSON payload (counted
   * `oversize`; the alert file still has it).
   */
  message(alert: Alert): string | null {
    return this.compose(alert).msg;
  }

  private compose(alert: Alert): { msg: string | null; how: 'whole' | 'shortened' | 'cut' } {
    const fits = (m: string): boolean => Buffer.byteLength(m) < this.maxBytes;
    const m = this.build(alert, this.fmt(alert, this.ctx));
    if (fits(m)) return { msg: m, how: 'whole' };
    for (const small of shrinkSteps(alert)) {
      const s = this.build(small, this.fmt(small, this.ctx));
      if (fits(s)) return { msg: s, how: 'shortened' };
    }
    return { msg: this.structured ? null : m, how: 'cut' };
  }

  write(alert: Alert): void {
    const { msg, how } = this.compose(alert);
    if (msg === null) {
      this.oversize++;
      this.log('error', `syslog ${this.name}: alert does not fit the ${this.maxBytes}-octet message limit even without evidence; not sent`, { kind: alert.kind });
      return;
    }
    if (how === 'shortened') this.shortened++;
    else if (how === 'cut') this.truncated++; // CEF: cut at a character boundary
    this.sender.send(msg);
  }

  flush(): Promise<void> {
    return this.sender.flush();
  }

  /** stream transports: wait (up to timeoutMs) until the spool is empty and nothing is in flight */
  drained(timeoutMs: number): Promise<boolean> {
    return this.sender instanceof SpoolingStreamSender ? this.sender.drained(timeoutMs) : this.sender.flush().then(() => true);
  }

  close(): Promise<void> {
    return this.sender.close();
  }

  /** SIGHUP: stream transports reconnect (picks up DNS / server changes) */
  async reopen(): Promise<void> {
    if (this.sender instanceof SpoolingStreamSender) this.sender.reconnect();
  }

  stats(): Record<string, number> {
    return { ...this.sender.stats(), truncated: this.truncated, shortened: this.shortened, oversize: this.oversize };
  }
}

function spoolNameFor(t: SyslogTarget): string {
  const id = t.transport === 'unix-stream' || t.transport === 'unix' ? `${t.transport}-${t.path}` : `${t.transport}-${t.host}-${t.port}`;
  return 'syslog-' + id.replace(/[^A-Za-z0-9._-]+/g, '_');
}

function defaultSpoolDir(): string {
  const state = process.env.STATE_DIRECTORY?.split(':')[0];
  return state ? path.join(state, 'spool') : path.join(os.tmpdir(), 'tapwatch-spool');
}
