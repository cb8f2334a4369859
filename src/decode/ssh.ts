/**
 * SSH: protocol banners and, once keys are exchanged, an inference of each
 * authentication attempt's outcome from the sizes of the encrypted packets,
 * as Zeek's SSH analyzer does (src/analyzer/protocol/ssh/SSH.cc):
 *
 *   - after the client's first encrypted bytes, the server's first encrypted
 *     segment is SERVICE_ACCEPT; its length is remembered;
 *   - a later server segment 16 bytes shorter is USERAUTH_SUCCESS;
 *   - the first other-sized segment (skipped once if > 256 bytes larger: a
 *     pre-auth banner) fixes the USERAUTH_FAILURE size; each later segment of
 *     that size is one failed attempt.
 *
 * The cleartext part (binary packets up to SSH_MSG_NEWKEYS, RFC 4253) is
 * walked by its length fields only; nothing is copied but the banner line.
 */
import type { StreamConsumer } from '../flows/stream.js';
import { safeText } from './text.js';
import type { PacketTime } from '../events/types.js';

export interface SshSink {
  banner(isClient: boolean, banner: string, t: PacketTime): void;
  auth(outcome: 'success' | 'failure', attempt: number, t: PacketTime): void;
}

const MAX_BANNER = 255;
const MAX_PRE_BANNER_LINES = 20;
const SSH_MSG_NEWKEYS = 21;
/** A cleartext binary packet larger than this means we lost the framing. */
const MAX_CLEAR_PACKET = 256 * 1024;

const enum S { Banner, Packets, Encrypted, Dead }

export class SshConnection {
  clientBanner: string | null = null;
  serverBanner: string | null = null;
  sawClientEncrypted = false;
  serviceAcceptSize = 0;
  failureSize = 0;
  skippedBanner = false;
  decided = false;
  attempts = 0;
  success = false;
  constructor(readonly sink: SshSink) {}

  encrypted(isClient: boolean, len: number, t: PacketTime): void {
    if (this.decided || len <= 0) return;
    if (isClient) { this.sawClientEncrypted = true; return; }
    if (!this.sawClientEncrypted) return;
    if (this.serviceAcceptSize === 0) { this.serviceAcceptSize = len; return; }
    if (this.failureSize === 0 && len + 16 === this.serviceAcceptSize) { this.succeed(t); return; }
    if (this.failureSize === 0) {
      if (!this.skippedBanner && len - this.serviceAcceptSize > 256) { this.skippedBanner = true; return; }
      this.failureSize = len;
      return;
    }
    if (len === this.failureSize) {
      this.attempts++;
      this.sink.auth('failure', this.attempts, t);
      return;
    }
    if (len - this.serviceAcceptSize === -16) this.succeed(t);
  }

  private succeed(t: PacketTime): void {
    this.decided = true;
    this.success = true;
    this.attempts++;
    this.sink.auth('success', this.attempts, t);
  }
}

export class SshHalf implements StreamConsumer {
  private state: S = S.Banner;
  private line: Buffer = Buffer.alloc(MAX_BANNER + 2);
  private lineLen = 0;
  private preLines = 0;
  /** bytes of the current cleartext packet still to skip */
  private skip = 0;
  /** the 6-byte packet header (length + padding length + message type) being collected */
  private head = Buffer.alloc(6);
  private headLen = 0;

  constructor(private readonly isClient: boolean, private readonly conn: SshConnection) {}

  gap(): void {
    // Lost bytes: framing and sizes can no longer be trusted (Zeek stops too).
    if (this.state !== S.Encrypted) this.state = S.Dead;
    this.conn.decided = true;
  }

  data(buf: Buffer, off: number, len: number, t: PacketTime): void {
    const end = off + len;
    while (off < end) {
      if (this.state === S.Dead) return;
      if (this.state === S.Encrypted) { this.conn.encrypted(this.isClient, end - off, t); return; }
      if (this.state === S.Banner) { off = this.bannerBytes(buf, off, end, t); continue; }
      // Cleartext binary packets.
      if (this.skip > 0) {
        const n = end - off < this.skip ? end - off : this.skip;
        this.skip -= n; off += n;
        continue;
      }
      while (this.headLen < 6 && off < end) this.head[this.headLen++] = buf[off++]!;
      if (this.headLen < 6) return;
      const plen = this.head.readUInt32BE(0);
      const type = this.head[5]!;
      this.headLen = 0;
      if (plen < 2 || plen > MAX_CLEAR_PACKET) { this.state = S.Dead; return; }
      this.skip = plen - 2; // the padding-length and type bytes are already read
      if (type === SSH_MSG_NEWKEYS) {
        const n = end - off < this.skip ? end - off : this.skip;
        this.skip -= n; off += n;
        if (this.skip === 0) this.state = S.Encrypted;
        else this.state = S.Dead; // NEWKEYS split oddly; give up rather than guess
      }
    }
  }

  private bannerBytes(buf: Buffer, off: number, end: number, t: PacketTime): number {
    while (off < end) {
      const c = buf[off++]!;
      if (c === 0x0a) {
        let n = this.lineLen;
        if (n > 0 && this.line[n - 1] === 0x0d) n--;
        const isVersion = n >= 4 && this.line.toString('latin1', 0, 4) === 'SSH-';
        this.lineLen = 0;
        if (isVersion) {
          const banner = safeText(this.line, 0, n);
          if (this.isClient) this.conn.clientBanner = banner; else this.conn.serverBanner = banner;
          this.conn.sink.banner(this.isClient, banner, t);
          // SSH-1 (but not the 1.99 compatibility banner) has another packet format: stop there.
          this.state = banner.startsWith('SSH-1.') && !banner.startsWith('SSH-1.99') ? S.Dead : S.Packets;
          return off;
        }
        // RFC 4253 §4.2: a server may send other lines before its version string.
        if (this.isClient || ++this.preLines > MAX_PRE_BANNER_LINES) { this.state = S.Dead; return end; }
        continue;
      }
      if (this.lineLen >= MAX_BANNER) { this.state = S.Dead; return end; }
      this.line[this.lineLen++] = c;
    }
    return off;
  }
}

/** Does this payload start like an SSH identification string? */
export function looksLikeSsh(buf: Buffer, off: number, len: number): boolean {
  return len >= 4 && buf[off] === 0x53 && buf[off + 1] === 0x53 && buf[off + 2] === 0x48 && buf[off + 3] === 0x2d;
}
