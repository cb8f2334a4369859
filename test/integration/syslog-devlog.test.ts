/**
 * Syslog to a unix datagram socket — what /dev/log is — received by a real
 * rsyslogd (imuxsock on a socket of the test's own), through the native
 * addon's datagram send; and the spool across an rsyslogd stop and restart.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rsyslog, HAVE_RSYSLOGD, until } from '../helpers/rsyslog.js';
import { SyslogSink } from '../../src/sinks/syslog.js';
import { loadDgramAddon } from '../../src/sinks/unix-dgram.js';
import type { Alert } from '../../src/alerts/types.js';

let addonWhy = '';
try { loadDgramAddon(); } catch (e) { addonWhy = (e as Error).message; }
const skip = !HAVE_RSYSLOGD || addonWhy !== '';
if (skip) console.log(`syslog /dev/log tests skipped: ${!HAVE_RSYSLOGD ? 'rsyslogd is not installed (apt-get install rsyslog)' : addonWhy}`);

const alert = (i: number, src = '10.77.0.1'): Alert => ({
  kind: 'port_scan', severity: 'high', confidence: 0.9, src, dst: '10.77.0.2', dport: 22, ts: 1795632900 + i, ts_first: 1795632900, ts_last: 1795632900 + i,
  summary: `scan #${i} "quoted" ]bracket\\ \x1b[31m`, evidence: { seq: i }, technique: 'T1046',
});

describe.skipIf(skip)('syslog over a unix datagram socket (/dev/log) to a real rsyslogd', () => {
  let root: string;
  let rs: Rsyslog;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'tapwatch-devlog-'));
    rs = await Rsyslog.start(root);
  });
  afterAll(async () => {
    await rs?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('delivers RFC 5424 messages whose structured data rsyslog parses, with attacker text escaped', async () => {
    const sink = new SyslogSink({ target: `unix://${rs.dgram}`, sensor: 't', version: '0', hostname: 'sensor1', spoolDir: join(root, 'spool1') });
    for (let i = 0; i < 5; i++) sink.write(alert(i));
    await sink.flush();
    await until(() => rs.records().filter((r) => r.input === 'imuxsock').length >= 5, 10_000, 'five messages');
    const recs = rs.records().filter((r) => r.input === 'imuxsock');
    expect(recs[0]).toMatchObject({ app: 'tapwatch', host: 'sensor1', msgid: 'port_scan' });
    expect(Rsyslog.sd(recs[0]!)).toMatchObject({ kind: 'port_scan', src: '10.77.0.1', technique: 'T1046' });
    expect(recs.map((r) => JSON.parse(r.msg.slice(r.msg.indexOf('{'))).evidence.seq)).toEqual([0, 1, 2, 3, 4]);
    for (const r of recs) expect(r.raw).not.toMatch(/[\x00-\x08\x0a-\x1f]/);
    expect(sink.stats()).toMatchObject({ delivered: 5, dropped: 0 });
    await sink.close();
  });

  it('spools while rsyslogd is stopped and delivers everything exactly once, in order, when it is back', async () => {
    const sink = new SyslogSink({ target: `unix://${rs.dgram}`, sensor: 't', version: '0', spoolDir: join(root, 'spool2'), retryInitialMs: 50, retryMaxMs: 200 });
    const before = rs.records().length;
    for (let i = 100; i < 110; i++) sink.write(alert(i, '10.77.0.9'));
    // Stop between writes: datagrams still queued in the dying daemon's socket are lost
    // with it (the kernel accepted them; see src/sinks/unix-dgram.ts).
    await until(() => rs.records().length - before >= 10, 10_000, 'the first ten messages');
    await rs.stop();
    for (let i = 110; i < 140; i++) sink.write(alert(i, '10.77.0.9'));
    expect(sink.stats().spooled).toBeGreaterThan(0);
    await rs.start();
    for (let i = 140; i < 150; i++) sink.write(alert(i, '10.77.0.9'));
    await until(() => rs.records().length - before >= 50, 15_000, 'all 50 messages after the restart');
    await new Promise((r) => setTimeout(r, 300)); // would a duplicate still arrive?
    const seqs = rs.records().slice(before).map((r) => JSON.parse(r.msg.slice(r.msg.indexOf('{'))).evidence.seq as number);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, k) => 100 + k));
    expect(sink.stats()).toMatchObject({ written: 50, delivered: 50, dropped: 0 });
    await sink.close();
  });
});
