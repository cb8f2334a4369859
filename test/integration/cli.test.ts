import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync, mkdirSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pcapFile, ethernet, ipv4Packet, tcp, ascii } from '../helpers/craft.js';
import { validateAlerts, validateEvents } from '../helpers/schemas.js';
import { ecsProblems } from '../helpers/ecs.js';

const ROOT = resolve(__dirname, '../..');
const CLI = join(ROOT, 'dist/cli/main.js');
const dir = mkdtempSync(join(tmpdir(), 'tapwatch-cli-'));

function run(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A small capture: an HTTP request whose User-Agent carries terminal escapes, at nanosecond precision. */
function httpCapture(): string {
  const C = '10.77.0.1', S = '10.77.0.2';
  const req = ascii('GET /a HTTP/1.1\r\nHost: h\r\nUser-Agent: x\x1b[2J\r\n\r\n');
  const frames = [
    ethernet(ipv4Packet(C, S, 6, tcp(40000, 80, 0x02, [], 100))),
    ethernet(ipv4Packet(S, C, 6, tcp(80, 40000, 0x12, [], 500, 101))),
    ethernet(ipv4Packet(C, S, 6, tcp(40000, 80, 0x10, [], 101, 501))),
    ethernet(ipv4Packet(C, S, 6, tcp(40000, 80, 0x18, req, 101, 501))),
  ];
  const p = join(dir, 'http-ns.pcap');
  writeFileSync(p, pcapFile(frames.map((data, i) => ({ sec: 1700000000 + i, frac: 123456789, data })), { ns: true }));
  return p;
}

describe('tapwatch analyze: outputs', () => {
  it('writes alerts as JSON lines to stdout and the summary to stderr', () => {
    const r = run(['analyze', httpCapture()]);
    expect(r.code).toBe(0);
    for (const line of r.out.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
    validateAlerts(r.out, 'analyze stdout');
    expect(r.err).toMatch(/packets: 4 /);
    expect(r.err).toMatch(/http_request\s+1/);
  });

  it('writes every event with an exact nanosecond ts and escaped attacker text', () => {
    const ev = join(dir, 'events.jsonl');
    const r = run(['analyze', httpCapture(), '--events', ev, '-q']);
    expect(r.code).toBe(0);
    const lines = readFileSync(ev, 'utf8').trim().split('\n');
    expect(validateEvents(lines, ev)).toBe(lines.length);
    const req = lines.find((l) => l.includes('"http_request"'))!;
    expect(req.startsWith('{"ts":1700000003.123456789,')).toBe(true);
    expect(JSON.parse(req).user_agent).toBe('x\\x1b[2J');
    expect(req).not.toMatch(/\u001b/);
  });

  it('writes the same alerts as json, ecs or cef lines with --payload, as run\'s outputs do', () => {
    const scan = resolve(ROOT, 'pcaps/ssh-bruteforce-success.pcap');
    const json = run(['analyze', scan, '-q', '--uid-seed', 'p']);
    const ecs = run(['analyze', scan, '-q', '--uid-seed', 'p', '--payload', 'ecs']);
    const cef = run(['analyze', scan, '-q', '--uid-seed', 'p', '--payload', 'cef']);
    expect([json.code, ecs.code, cef.code]).toEqual([0, 0, 0]);
    const alerts = json.out.trim().split('\n');
    expect(validateAlerts(alerts, 'json payload')).toBeGreaterThanOrEqual(3);
    const docs = ecs.out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const lines = cef.out.trim().split('\n');
    expect(docs).toHaveLength(alerts.length);
    expect(lines).toHaveLength(alerts.length);
    alerts.forEach((l, i) => {
      const a = JSON.parse(l) as { id: string; kind: string };
      expect(docs[i]!.event.id).toBe(a.id);
      expect(docs[i]!.rule.name).toBe(a.kind);
      expect(ecsProblems(docs[i]!)).toEqual([]);
      expect(lines[i]!.startsWith(`CEF:0|tapwatch|tapwatch|`)).toBe(true);
      expect(lines[i]).toContain(` externalId=${a.id} `);
    });
    expect(docs.some((d) => d.threat?.technique?.subtechnique?.id?.[0] === 'T1110.001')).toBe(true);
  });

  it('refuses --payload with --format text and an unknown payload, one line, exit 2', () => {
    const a = run(['analyze', httpCapture(), '--format', 'text', '--payload', 'ecs']);
    expect(a.code).toBe(2);
    expect(a.err.trim().split('\n')).toHaveLength(1);
    const b = run(['analyze', httpCapture(), '--payload', 'xml']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/payload/);
    expect(b.err.trim().split('\n')).toHaveLength(1);
  });

  it('prints a readable summary with --format text', () => {
    const r = run(['analyze', '--format', 'text', httpCapture()]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/no alerts|alerts?:/);
    expect(r.out).toMatch(/--- tapwatch summary ---/);
    expect(r.out).toMatch(/events by type:/);
  });

  it('reads a capture from stdin ("-") with the same result as from the path', () => {
    const p = httpCapture();
    const a = join(dir, 'a.jsonl'), b = join(dir, 'b.jsonl');
    // uids are random per run unless seeded (as Zeek's): a fixed seed makes two runs comparable
    run(['analyze', p, '--events', a, '-q', '--uid-seed', 's']);
    const r = run(['analyze', '-', '--events', b, '-q', '--uid-seed', 's'], readFileSync(p));
    expect(r.code).toBe(0);
    expect(readFileSync(b, 'utf8')).toBe(readFileSync(a, 'utf8'));
  });

  it('writes alerts to --output FILE', () => {
    const o = join(dir, 'alerts.jsonl');
    const r = run(['analyze', httpCapture(), '-o', o, '-q']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');
    expect(() => readFileSync(o)).not.toThrow();
  });
});

describe('tapwatch analyze: user errors exit 2 with one clear line', () => {
  const oneLine = (s: string) => s.trim().split('\n').length === 1 && !/\n\s+at /.test(s);
  it('missing file', () => {
    const r = run(['analyze', join(dir, 'nope.pcap')]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nope\.pcap: no such file/);
    expect(oneLine(r.err)).toBe(true);
  });
  it('a file that is not a capture', () => {
    const p = join(dir, 'notes.txt');
    writeFileSync(p, 'just text\n');
    const r = run(['analyze', p]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/not a pcap or pcapng capture/);
  });
  it('a directory', () => {
    const d = join(dir, 'adir');
    mkdirSync(d, { recursive: true });
    const r = run(['analyze', d]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/is a directory/);
  });
  it('an unreadable file', () => {
    const p = join(dir, 'secret.pcap');
    writeFileSync(p, pcapFile([]), { mode: 0o600 });
    chmodSync(dir, 0o755); // the directory is searchable; only the file is closed
    // As root every file is readable: run the CLI as nobody (setpriv), who cannot read it.
    const asRoot = process.getuid?.() === 0;
    const r = asRoot
      ? (() => {
          const x = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, CLI, 'analyze', p], { encoding: 'utf8' });
          return { code: x.status, err: x.stderr };
        })()
      : run(['analyze', p]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/secret\.pcap: permission denied/);
  });
  it('a bad flag', () => {
    const r = run(['analyze', httpCapture(), '--frobnicate']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Unknown argument: frobnicate/);
    expect(oneLine(r.err)).toBe(true);
  });
  it('a bad format value', () => {
    const r = run(['analyze', '--format', 'xml', httpCapture()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/Invalid values/);
  });
  it('a config file with an unknown key names the key path', () => {
    const c = join(dir, 'bad.json');
    writeFileSync(c, JSON.stringify({ detectors: { event_rate: { maxPerSecnd: 5 } } }));
    const r = run(['analyze', '--config', c, httpCapture()]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/detectors\.event_rate\.maxPerSecnd: unknown key/);
  });
});

describe('tapwatch analyze: damaged input keeps what was analysed', () => {
  it('a truncated last record: warning with the packet count, exit 1, events before it written', () => {
    const full = readFileSync(httpCapture());
    const p = join(dir, 'cut.pcap');
    writeFileSync(p, full.subarray(0, full.length - 10));
    const ev = join(dir, 'cut.jsonl');
    const r = run(['analyze', p, '--events', ev]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/warning: .*truncated last record .*read 3 packets/);
    expect(readFileSync(ev, 'utf8')).toMatch(/"tcp_syn"/);
  });
  it('a bad second file: the first file is still analysed and reported, exit 2', () => {
    const bad = join(dir, 'bad2.pcap');
    writeFileSync(bad, 'garbage!garbage!garbage!');
    const ev = join(dir, 'two.jsonl');
    const r = run(['analyze', httpCapture(), bad, '--events', ev]);
    expect(r.code).toBe(2);
    expect(readFileSync(ev, 'utf8')).toMatch(/"http_request"/);
    expect(r.err).toMatch(/packets: 4 /);
  });
});
