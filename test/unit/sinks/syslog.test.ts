import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { SyslogSink, parseSyslogTarget } from '../../../src/sinks/syslog.js';
import { alert, NASTY } from '../format/fixtures.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tapwatch-syslog-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function octetServer(listen: (s: net.Server) => void): { server: net.Server; msgs: string[]; raw: () => string } {
  const msgs: string[] = [];
  let all = '';
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    sock.on('data', (d) => {
      all += d.toString();
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const sp = buf.indexOf(0x20);
        if (sp < 0) break;
        const len = Number(buf.subarray(0, sp).toString());
        if (buf.length < sp + 1 + len) break;
        msgs.push(buf.subarray(sp + 1, sp + 1 + len).toString());
        buf = buf.subarray(sp + 1 + len);
      }
    });
    sock.on('error', () => {});
  });
  listen(server);
  return { server, msgs, raw: () => all };
}

describe('parseSyslogTarget', () => {
  it('parses udp, tcp (with IPv6 brackets and default port 514) and unix-stream', () => {
    expect(parseSyslogTarget('udp://127.0.0.1:5514')).toEqual({ transport: 'udp', host: '127.0.0.1', port: 5514 });
    expect(parseSyslogTarget('tcp://logs.example')).toEqual({ transport: 'tcp', host: 'logs.example', port: 514 });
    expect(parseSyslogTarget('tcp://[::1]:601')).toEqual({ transport: 'tcp', host: '::1', port: 601 });
    expect(parseSyslogTarget('unix-stream:///run/tapwatch.sock')).toEqual({ transport: 'unix-stream', path: '/run/tapwatch.sock' });
  });
  it('accepts unix datagram targets (/dev/log) and rejects a relative path and junk', () => {
    expect(parseSyslogTarget('unix:///dev/log')).toEqual({ transport: 'unix', path: '/dev/log' });
    expect(() => parseSyslogTarget('unix://dev/log')).toThrow(/absolute path/);
    expect(() => parseSyslogTarget('tcp://h:99999')).toThrow(/bad port/);
    expect(() => parseSyslogTarget('http://h')).toThrow(/unknown transport/);
    expect(() => parseSyslogTarget('h:514')).toThrow(/expected/);
  });
});

describe('SyslogSink', () => {
  it('sends one RFC 5424 datagram per alert over UDP', async () => {
    const rx = dgram.createSocket('udp4');
    const got: string[] = [];
    rx.on('message', (m) => got.push(m.toString()));
    await new Promise<void>((r) => rx.bind(0, '127.0.0.1', () => r()));
    const port = rx.address().port;
    const sink = new SyslogSink({ target: `udp://127.0.0.1:${port}`, hostname: 'h1', sensor: 'eth0', version: '0.1.0' });
    sink.write(alert({ summary: NASTY }));
    sink.write(alert({ severity: 'critical' }));
    await sink.flush();
    await until(() => got.length === 2);
    expect(got[0]).toMatch(new RegExp(`^<171>1 2023-11-14T22:13:20\\.123456Z h1 tapwatch ${process.pid} port_scan \\[tapwatch@32473 `));
    expect(JSON.parse(got[0]!.slice(got[0]!.indexOf('] ') + 2)).summary).toBe(NASTY);
    expect(got[1]!.startsWith('<170>1 ')).toBe(true);
    expect(sink.stats()).toMatchObject({ written: 2, delivered: 2 });
    await sink.close();
    rx.close();
  });

  it('frames TCP messages with RFC 6587 octet counting (byte length, not char length)', async () => {
    const srv = octetServer((s) => s.listen(0, '127.0.0.1'));
    await new Promise((r) => srv.server.once('listening', r));
    const port = (srv.server.address() as net.AddressInfo).port;
    const sink = new SyslogSink({
      target: `tcp://127.0.0.1:${port}`,
      hostname: 'h1',
      sensor: 's',
      version: '1',
      format: 'cef',
      spoolDir: dir,
    });
    const a = alert({ summary: 'ünïcödé | = \\' });
    sink.write(a);
    await until(() => srv.msgs.length === 1);
    expect(srv.msgs[0]).toBe(sink.message(a));
    expect(srv.raw()).toMatch(/^\d+ <171>1 /);
    expect(Number(srv.raw().split(' ')[0])).toBe(Buffer.byteLength(srv.msgs[0]!));
    expect(srv.msgs[0]).toContain('] CEF:0|tapwatch|tapwatch|1|port_scan|ünïcödé \\| = \\\\|8|');
    await sink.close();
    srv.server.close();
  });

  it('speaks RFC 3164 with LF framing over a unix stream socket when asked', async () => {
    const sockPath = path.join(dir, 'log.sock');
    const lines: string[] = [];
    const server = net.createServer((c) => {
      let buf = '';
      c.on('data', (d) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          lines.push(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    });
    await new Promise<void>((r) => server.listen(sockPath, () => r()));
    const sink = new SyslogSink({
      target: `unix-stream://${sockPath}`,
      protocol: 'rfc3164',
      framing: 'lf',
      facility: 'auth',
      hostname: 'h1',
      sensor: 's',
      version: '1',
      spoolDir: dir,
    });
    sink.write(alert({ summary: 'line1\nline2' }));
    await until(() => lines.length === 1);
    expect(lines[0]).toMatch(new RegExp(`^<35>Nov 14 22:13:20 h1 tapwatch\\[${process.pid}\\]: \\{"ts":`));
    expect(lines[0]).toContain('line1\\nline2'); // JSON escaping; never a raw LF in the frame
    await sink.close();
    server.close();
  });

  it('UDP to a host that does not resolve: flush() does not hang, alerts are spooled and the connect is retried', async () => {
    const logs: string[] = [];
    const sink = new SyslogSink({
      target: 'udp://nonexistent.invalid:514',
      sensor: 's',
      version: '1',
      spoolDir: dir,
      retryInitialMs: 5_000,
      logger: (_l, m) => logs.push(m),
    });
    sink.write(alert());
    await sink.flush();
    await until(() => sink.stats().spooled === 1, 5000);
    sink.write(alert());
    await sink.flush();
    expect(sink.stats()).toMatchObject({ written: 2, spooled: 2, dropped: 0 });
    expect(logs.some((m) => m.includes('cannot connect'))).toBe(true);
    await sink.close();
  });

  it('UDP with a spool: after an ICMP port unreachable, alerts are spooled and delivered when the receiver is back', async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', () => r()));
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r())); // nobody listens now
    const sink = new SyslogSink({
      target: `udp://127.0.0.1:${port}`,
      sensor: 's',
      version: '1',
      spoolDir: dir,
      retryInitialMs: 50,
      retryMaxMs: 100,
    });
    for (let i = 0; i < 5; i++) {
      sink.write(alert({ dport: i }));
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => sink.stats().spooled > 0);
    const rx = dgram.createSocket('udp4');
    const got: number[] = [];
    rx.on('message', (m) => {
      const s = m.toString();
      got.push(JSON.parse(s.slice(s.indexOf('] ') + 2)).dport);
    });
    await new Promise<void>((r) => rx.bind(port, '127.0.0.1', () => r()));
    for (let i = 5; i < 8; i++) sink.write(alert({ dport: i }));
    await until(() => got.includes(7) && sink.stats().spool_pending === 0, 5000);
    // the first datagram(s) before the first ICMP error are lost: UDP is best effort
    expect(got).toEqual([...got].sort((a, b) => a - b));
    expect(got.slice(-3)).toEqual([5, 6, 7]);
    expect(sink.stats().spooled).toBeGreaterThanOrEqual(3);
    await sink.close();
    rx.close();
  });
});
