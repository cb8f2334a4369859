/**
 * PCAP on alert (Suricata's pcap-log in `conditional: alerts` mode): when an
 * alert is delivered, the kept packets of the flows behind it
 * (flows/packet-ring.ts: its evidence uids and Community IDs, then the other
 * kept flows between its endpoints) are written, in packet-time order, to
 * `alert-<id>.pcap` in `dir` (next to the alert file unless configured), and
 * the alert carries `pcap: "<file name>"`. An update of the alert (same id)
 * names the same file and rewrites it with what the ring holds by then when
 * that is more (a scan's later probes, the brute force's later attempts;
 * updates come at most once per alerts.updateEvery); a detector's
 * end-of-episode record with an id of its own gets its own file.
 *
 * The file is classic pcap with nanosecond timestamps (magic 0xa1b23c4d,
 * what tcpdump/tshark/Wireshark read), link type of the first packet; packets
 * of another link type are left out and counted (rare: one capture interface
 * has one). Capped: at most `fileBytes` per file (the rest of its packets
 * counted as cut), at most `maxFiles` files and `totalBytes` bytes of
 * alert-*.pcap in the directory, files of earlier runs included — the oldest
 * file is deleted first (rotation). Suricata's defaults for comparison:
 * limit 1000 MiB per file, max-files 2000.
 *
 * Writing is synchronous: alerts are rare, and the file is complete when the
 * alert that names it is written.
 */
import { writeFileSync, readdirSync, statSync, unlinkSync, mkdirSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import type { Alert } from './types.js';
import type { PacketRing, StoredPacket } from '../flows/packet-ring.js';

export interface PcapLogOptions {
  /** directory of the pcap files */
  dir: string;
  /** flows written per alert at most */
  flowsPerAlert: number;
  fileBytes: number;
  maxFiles: number;
  totalBytes: number;
}

export const PCAP_LOG_DEFAULTS = { flowsPerAlert: 1024, fileBytes: 16 * 1024 * 1024, maxFiles: 1000, totalBytes: 1024 * 1024 * 1024 } as const;

export interface PcapLogStats {
  files: number;
  packets: number;
  bytes: number;
  /** packets left out: the file's size cap, or another link type */
  cut: number;
  /** files written again for an update, with more packets */
  rewritten: number;
  /** alerts with no kept packet (nothing written) */
  empty: number;
  /** old files deleted by rotation */
  rotated: number;
  /** files that could not be written (disk full, permissions): the alert goes out without `pcap` */
  errors: number;
}

const FILE_RE = /^alert-[A-Za-z0-9_-]+\.pcap$/;
const HEADER = 24, RECORD = 16;

/** the file name for an alert id: only [A-Za-z0-9_-] (an id is ours, but an odd one must not make a path) */
export function pcapName(id: string): string {
  return `alert-${id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64)}.pcap`;
}

export class PcapLog {
  private readonly o: PcapLogOptions;
  /** files in the directory, oldest first, with their sizes */
  private readonly files: { name: string; size: number }[] = [];
  private total = 0;
  /** alert id → its file (an update names the same file) */
  private readonly byId = new Map<string, { name: string; packets: number; written: number }>();
  readonly stats: PcapLogStats = { files: 0, rewritten: 0, packets: 0, bytes: 0, cut: 0, empty: 0, rotated: 0, errors: 0 };
  /** where the last error is told (once per kind of failure is enough for a log) */
  onError: (msg: string) => void = () => {};

  constructor(o: Partial<PcapLogOptions> & { dir: string }) {
    this.o = { ...PCAP_LOG_DEFAULTS, ...o };
    mkdirSync(this.o.dir, { recursive: true });
    // files of earlier runs count against the caps
    const old = readdirSync(this.o.dir).filter((n) => FILE_RE.test(n)).map((name) => {
      const st = statSync(join(this.o.dir, name));
      return { name, size: st.size, mtime: st.mtimeMs };
    }).sort((a, b) => a.mtime - b.mtime || a.name.localeCompare(b.name));
    for (const f of old) { this.files.push({ name: f.name, size: f.size }); this.total += f.size; }
  }

  /** Writes the alert's pcap if it has none yet; returns the file name to put in the alert, or null. */
  forAlert(a: Alert, ring: PacketRing): string | null {
    const id = a.id;
    if (id === undefined) return null;
    const had = this.byId.get(id);
    // an update rewrites its alert's file with what the ring holds by now (a scan's later probes),
    // unless the ring has since forgotten packets the file has
    if (had !== undefined && a.update !== true) return had.name;
    const ev = a.evidence;
    const keys: string[] = [];
    for (const k of [a.uid, a.community_id, ...(Array.isArray(ev.uids) ? ev.uids : []), ...(Array.isArray(ev.community_ids) ? ev.community_ids : [])]) {
      if (typeof k === 'string' && k !== '') keys.push(k);
    }
    const flows = ring.select(a, keys, this.o.flowsPerAlert);
    const pkts: StoredPacket[] = [];
    for (const f of flows) for (const p of f.packets()) pkts.push(p);
    if (had !== undefined && pkts.length <= had.packets) return had.name;
    if (pkts.length === 0) { this.stats.empty++; return null; }
    pkts.sort((x, y) => x.sec - y.sec || x.nsec - y.nsec);
    const linktype = pkts[0]!.linktype;
    const parts: Buffer[] = [];
    let size = HEADER, snap = 0, n = 0;
    for (const p of pkts) {
      if (p.linktype !== linktype || size + RECORD + p.data.length > this.o.fileBytes) { this.stats.cut++; continue; }
      const h = Buffer.allocUnsafe(RECORD);
      h.writeUInt32LE(p.sec >>> 0, 0);
      h.writeUInt32LE(p.nsec >>> 0, 4);
      h.writeUInt32LE(p.data.length, 8);
      h.writeUInt32LE(p.wirelen, 12);
      parts.push(h, p.data);
      size += RECORD + p.data.length;
      if (p.data.length > snap) snap = p.data.length;
      n++;
    }
    if (n === 0) { this.stats.empty++; return null; }
    if (had !== undefined && n <= had.written) return had.name;
    const head = Buffer.alloc(HEADER);
    head.writeUInt32LE(0xa1b23c4d, 0); // nanosecond pcap
    head.writeUInt16LE(2, 4);
    head.writeUInt16LE(4, 6);
    head.writeUInt32LE(Math.max(snap, 65535), 16);
    head.writeUInt32LE(linktype, 20);
    const name = pcapName(id);
    if (had !== undefined) this.forget(name);
    this.rotate(size);
    try {
      writeFileSync(join(this.o.dir, name), Buffer.concat([head, ...parts], size));
    } catch (e) {
      this.stats.errors++;
      this.onError(`pcap on alert: cannot write ${join(this.o.dir, name)}: ${(e as Error).message}`);
      return null;
    }
    this.files.push({ name, size });
    this.total += size;
    this.byId.set(id, { name, packets: pkts.length, written: n });
    if (had !== undefined) this.stats.rewritten++; else this.stats.files++;
    this.stats.packets += n - (had?.written ?? 0);
    this.stats.bytes += size;
    return name;
  }

  /** takes a file being rewritten out of the rotation list (it goes back at the end, as the newest) */
  private forget(name: string): void {
    const i = this.files.findIndex((f) => f.name === name);
    if (i >= 0) { this.total -= this.files[i]!.size; this.files.splice(i, 1); }
  }

  /** deletes the oldest files until one more of `size` bytes fits the count and byte caps */
  private rotate(size: number): void {
    while (this.files.length > 0 && (this.files.length + 1 > this.o.maxFiles || this.total + size > this.o.totalBytes)) {
      const f = this.files.shift()!;
      this.total -= f.size;
      try { unlinkSync(join(this.o.dir, f.name)); this.stats.rotated++; } catch { /* already gone */ }
      for (const [id, w] of this.byId) if (w.name === f.name) { this.byId.delete(id); break; }
    }
  }
}

/** the `alerts.pcap` configuration section (config.ts) */
export interface PcapConfig {
  enabled: boolean; dir: string; ringBytes: number; flowPackets: number; flowBytes: number; snaplen: number;
  flowsPerAlert: number; fileBytes: number; maxFiles: number; totalBytes: number;
}

/**
 * The pipeline's pcap options from the configuration, or undefined when off.
 * The directory: `dir`, else the alert file's directory, else the working directory.
 */
export function pcapOptions(c: PcapConfig, alertFile: string | null): (PcapConfig & { dir: string }) | undefined {
  if (!c.enabled) return undefined;
  const dir = c.dir !== '' ? c.dir : alertFile !== null && alertFile !== '-' ? dirname(resolve(alertFile)) : process.cwd();
  return { ...c, dir };
}
