import { describe, it, expect } from 'vitest';
import { SshConnection, SshHalf } from '../../../src/decode/ssh.js';
import type { PacketTime } from '../../../src/events/types.js';
import { u32 } from '../../helpers/craft.js';

const t = (s: number): PacketTime => ({ ts: s, tsSec: s, tsNsec: 0, tsDigits: 6 });

function setup() {
  const banners: [boolean, string][] = [];
  const auths: [string, number][] = [];
  const c = new SshConnection({ banner: (isClient, b) => banners.push([isClient, b]), auth: (o, n) => auths.push([o, n]) });
  return { banners, auths, c, client: new SshHalf(true, c), server: new SshHalf(false, c) };
}

/** A cleartext SSH binary packet of the given message type and total payload size. */
function clear(type: number, bodyLen = 10): number[] {
  const padLen = 4;
  const len = 1 + 1 + bodyLen + padLen;
  return [...u32(len), padLen, type, ...Array(bodyLen).fill(0), ...Array(padLen).fill(0)];
}

function send(h: SshHalf, bytes: number[] | string, ts = 1): void {
  const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
  h.data(b, 0, b.length, t(ts));
}

/** Both sides exchange banners, KEXINIT and NEWKEYS. */
function handshake(x: ReturnType<typeof setup>): void {
  send(x.server, 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
  send(x.client, 'SSH-2.0-libssh_0.10.4\r\n');
  send(x.client, [...clear(20, 100), ...clear(30, 32)]);
  send(x.server, [...clear(20, 100), ...clear(31, 200)]);
  send(x.server, clear(21, 0));
  send(x.client, clear(21, 0));
}

describe('SSH banners', () => {
  it('reports both banners and the side that sent each', () => {
    const x = setup();
    handshake(x);
    expect(x.banners).toEqual([[false, 'SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3'], [true, 'SSH-2.0-libssh_0.10.4']]);
  });
  it('skips lines a server sends before its version string (RFC 4253 4.2)', () => {
    const x = setup();
    send(x.server, 'Welcome\r\nSSH-2.0-srv\r\n');
    expect(x.banners).toEqual([[false, 'SSH-2.0-srv']]);
  });
  it('escapes control characters in a banner', () => {
    const x = setup();
    send(x.client, 'SSH-2.0-evil\x1b]0;pwned\x07\r\n');
    expect(x.banners[0]![1]).toBe('SSH-2.0-evil\\x1b]0;pwned\\x07');
  });
  it('gives up on an over-long line instead of buffering it', () => {
    const x = setup();
    send(x.client, 'SSH-2.0-' + 'a'.repeat(400) + '\r\n');
    expect(x.banners).toHaveLength(0);
  });
});

describe('SSH authentication inference (Zeek method)', () => {
  it('counts failures by the size of USERAUTH_FAILURE and a success 16 bytes below SERVICE_ACCEPT', () => {
    const x = setup();
    handshake(x);
    send(x.client, Array(52).fill(1)); // SERVICE_REQUEST
    send(x.server, Array(52).fill(2)); // SERVICE_ACCEPT: 52
    send(x.client, Array(100).fill(1)); // "none" attempt
    send(x.server, Array(68).fill(2)); // first failure: fixes the failure size
    for (let i = 0; i < 3; i++) { send(x.client, Array(120).fill(1)); send(x.server, Array(68).fill(2)); }
    send(x.client, Array(120).fill(1));
    send(x.server, Array(36).fill(2)); // 52 - 16: success
    expect(x.auths).toEqual([['failure', 1], ['failure', 2], ['failure', 3], ['success', 4]]);
    expect(x.c.success).toBe(true);
  });
  it('infers nothing from server packets before the client has sent encrypted data', () => {
    const x = setup();
    handshake(x);
    send(x.server, Array(52).fill(2));
    send(x.server, Array(36).fill(2));
    expect(x.auths).toEqual([]);
  });
  it('stops inferring after a gap in the stream', () => {
    const x = setup();
    handshake(x);
    send(x.client, Array(52).fill(1));
    send(x.server, Array(52).fill(2));
    x.server.gap();
    send(x.server, Array(36).fill(2));
    expect(x.auths).toEqual([]);
  });
});
