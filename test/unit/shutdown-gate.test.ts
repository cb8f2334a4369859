import { describe, it, expect } from 'vitest';
import { ShutdownGate } from '../../src/capture/shutdown-gate.js';
import { RecordingSink } from '../helpers/collect.js';

describe('ShutdownGate', () => {
  const b = Buffer.alloc(4);
  it('passes every packet while no deadline is set', () => {
    const sink = new RecordingSink();
    const g = new ShutdownGate(sink);
    for (let i = 0; i < 10_000; i++) g.packet(1, i, 0, b, 0, 4, 4);
    expect([sink.packets.length, g.skipped]).toEqual([10_000, 0]);
  });
  it('after the deadline counts packets instead of analysing them, and the counts add up', () => {
    const sink = new RecordingSink();
    const g = new ShutdownGate(sink);
    g.deadline = Date.now() - 1;
    for (let i = 0; i < 20_000; i++) g.packet(1, i, 0, b, 0, 4, 4);
    expect(sink.packets.length).toBeLessThan(4096);
    expect(sink.packets.length + g.skipped).toBe(20_000);
  });
});
