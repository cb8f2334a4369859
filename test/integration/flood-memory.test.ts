/**
 * A SYN flood from hundreds of thousands of random (spoofed) sources must not
 * grow state without limit anywhere in the pipeline: the flow table holds at
 * most maxFlows (evictions counted) and every detector stays within its caps.
 */
import { describe, it, expect } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full collection before each heap reading, so the figure is live state, not garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
import { Pipeline } from '../../src/pipeline.js';
import { buildDetectors } from '../../src/detect/index.js';
import { defaultConfig } from '../../src/config.js';
import { CidrSet } from '../../src/util/cidr.js';

describe('bounded state under a spoofed-source flood', () => {
  it('200,000 SYNs from distinct random sources: flow table capped, evictions counted, heap growth bounded, the flood alerted', () => {
    const cfg = defaultConfig();
    const alerts: string[] = [];
    const p = new Pipeline({
      detectors: buildDetectors(cfg.detectors, { homeNet: CidrSet.parse(cfg.network.homeNet) }),
      tracker: { maxFlows: 20_000 },
      onAlert: (a) => alerts.push(`${a.kind} ${a.dst ?? ''}`),
    });
    // One Ethernet/IPv4/TCP SYN frame, rewritten in place per packet (source address and port).
    const f = Buffer.alloc(54);
    f.writeUInt16BE(0x0800, 12);
    f[14] = 0x45; f.writeUInt16BE(40, 16); f[22] = 64; f[23] = 6;
    f.writeUInt32BE(0x0a4d0002, 30); // 10.77.0.2
    f.writeUInt16BE(80, 36); f[46] = 0x50; f[47] = 0x02;
    let seed = 12345;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const N = 200_000;
    gc();
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < N; i++) {
      f.writeUInt32BE((rnd() | 0x01000000) >>> 0, 26);
      f.writeUInt16BE(1024 + (rnd() % 60000), 34);
      const t = 1_800_000_000 + i / 100_000; // 100k SYN/s for 2 s of packet time
      const sec = Math.floor(t);
      p.packet(1, sec, Math.round((t - sec) * 1e9), f, 0, 54, 60, 9);
    }
    const st = p.snapshot();
    gc();
    const heapMb = (process.memoryUsage().heapUsed - heap0) / 1048576;
    console.log(`flood: flows active ${st.flows.active}, evicted ${st.flows.evicted}, heap +${heapMb.toFixed(0)} MiB, alerts ${[...new Set(alerts)].join('; ')}`);
    expect(st.flows.active).toBeLessThanOrEqual(20_000);
    expect(st.flows.evicted).toBeGreaterThan(N - 20_000 - 1);
    for (const d of p.detectors) {
      const s = d.stats();
      for (const [k, v] of Object.entries(s)) if (/^(sources|destinations|pairs|hosts|entries|tracked|clients|servers|victims|scanners|keys)$/.test(k)) expect(v, `${d.name}.${k}`).toBeLessThanOrEqual(200_000);
    }
    expect(heapMb).toBeLessThan(250);
    expect(alerts.some((a) => a.startsWith('syn_flood 10.77.0.2'))).toBe(true);
    p.finish();
  });
});
