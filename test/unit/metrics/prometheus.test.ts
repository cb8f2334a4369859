import { describe, it, expect } from 'vitest';
import { parseListen, buildRegistry } from '../../../src/metrics/prometheus.js';
import { Pipeline } from '../../../src/pipeline.js';
import { buildDetectors } from '../../../src/detect/index.js';
import { defaultConfig } from '../../../src/config.js';
import { CidrSet } from '../../../src/util/cidr.js';
import { ethernet, ipv4Packet, tcp } from '../../helpers/craft.js';

describe('metrics: listen address', () => {
  it('host:port, [v6]:port and :port (loopback)', () => {
    expect(parseListen('127.0.0.1:9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('[::1]:9464')).toEqual({ host: '::1', port: 9464 });
    expect(parseListen(':9464')).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(parseListen('sensor.lan:80')).toEqual({ host: 'sensor.lan', port: 80 });
  });
  it('rejects a missing or out-of-range port with the value in the message', () => {
    expect(() => parseListen('localhost')).toThrow(/"localhost": expected host:port/);
    expect(() => parseListen('127.0.0.1:0')).toThrow(/port 0 out of range/);
    expect(() => parseListen('127.0.0.1:70000')).toThrow(/port 70000 out of range/);
  });
});

describe('metrics: the registry reads the pipeline\'s own counters at scrape time', () => {
  it('packets, events by type, alerts by kind, flows and detector state after real packets', async () => {
    const cfg = defaultConfig();
    const pipeline = new Pipeline({ detectors: buildDetectors(cfg.detectors, { homeNet: CidrSet.parse(cfg.network.homeNet, 'x') }), onAlert: () => {} });
    const reg = buildRegistry({
      stats: () => pipeline.snapshot(), detectors: () => pipeline.detectors, sinks: () => [],
      capture: () => ({ received: 7, dropped: 1, ifdropped: 0, queueDropped: 2, packetsDelivered: 4 }),
      notAnalysed: () => 3, packetTime: () => pipeline.now,
    });
    for (let i = 0; i < 4; i++) {
      const b = Buffer.from(ethernet(ipv4Packet('10.0.0.1', '10.0.0.2', 6, tcp(40000 + i, 80, 0x02))));
      pipeline.packet(1, 1_700_000_000 + i, 0, b, 0, b.length, b.length, 6);
    }
    const text = await reg.metrics();
    expect(text).toMatch(/^tapwatch_packets_total 4$/m);
    expect(text).toMatch(/^tapwatch_events_total\{type="tcp_syn"\} 4$/m);
    expect(text).toMatch(/^tapwatch_flows_active 4$/m);
    expect(text).toMatch(/^tapwatch_packets_dropped_total\{cause="kernel"\} 1$/m);
    expect(text).toMatch(/^tapwatch_packets_dropped_total\{cause="queue"\} 2$/m);
    expect(text).toMatch(/^tapwatch_packets_dropped_total\{cause="shutdown"\} 3$/m);
    expect(text).toMatch(/^tapwatch_capture_down 0$/m); // a capture source without link counters: 0, not NaN
    expect(text).toMatch(/^tapwatch_packet_time_seconds 1700000003$/m);
    expect(text).toMatch(/^tapwatch_detector_stat\{detector="port_scan",stat="pairs"\} \d+$/m);
    // a later scrape sees later counts (nothing cached)
    const b = Buffer.from(ethernet(ipv4Packet('10.0.0.1', '10.0.0.2', 6, tcp(41000, 80, 0x02))));
    pipeline.packet(1, 1_700_000_005, 0, b, 0, b.length, b.length, 6);
    expect(await reg.metrics()).toMatch(/^tapwatch_packets_total 5$/m);
  });
});
