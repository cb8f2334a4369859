/** The memory budget: which caps follow limits.memoryMiB, and how the summary names the caps that evicted. */
import { describe, it, expect } from 'vitest';
import { defaultConfig, resolveConfig } from '../../src/config.js';
import { DEFAULT_MEMORY_MIB, flowsForBudget, capScale } from '../../src/limits.js';
import { capLines } from '../../src/cli/summary.js';
import { CAP_KEYS, capKeysOf } from '../../src/detect/caps.js';
import { DETECTORS } from '../../src/detect/index.js';

describe('limits.memoryMiB', () => {
  it('at the default budget every cap is its documented default', () => {
    const cfg = resolveConfig([]);
    const def = defaultConfig();
    expect(cfg.limits.memoryMiB).toBe(DEFAULT_MEMORY_MIB);
    expect(cfg.flows.maxFlows).toBe(flowsForBudget(DEFAULT_MEMORY_MIB));
    expect(cfg.detectors).toEqual(def.detectors);
    expect(capScale(DEFAULT_MEMORY_MIB)).toBe(1);
  });

  it('a bigger budget scales the caps left at their defaults; a cap the user set is kept', () => {
    const cfg = resolveConfig([{ source: 'test', data: { limits: { memoryMiB: 2048 }, detectors: { port_scan: { maxPairs: 7000 } } } }]);
    const def = defaultConfig();
    const k = capScale(2048);
    expect(k).toBeGreaterThan(4);
    expect(cfg.flows.maxFlows).toBe(flowsForBudget(2048));
    expect(cfg.flows.maxFlows).toBeGreaterThan(4 * def.flows.maxFlows);
    expect(cfg.detectors.event_rate!.maxSources).toBe(Math.round((def.detectors.event_rate!.maxSources as number) * k));
    expect(cfg.detectors.port_scan!.maxPairs).toBe(7000);
    // not a cap: thresholds and ratios stay
    expect(cfg.detectors.syn_flood!.rate).toBe(def.detectors.syn_flood!.rate);
    expect(cfg.detectors.syn_flood!.maxCompletion).toBe(def.detectors.syn_flood!.maxCompletion);
    expect(cfg.detectors.beaconing!.maxPeriod).toBe(def.detectors.beaconing!.maxPeriod); // seconds, not a cap
    expect(cfg.detectors.slow_scan!.maxSources).toBe(Math.round((def.detectors.slow_scan!.maxSources as number) * k));
  });

  it('a smaller budget lowers them, never below 1000 entries', () => {
    const cfg = resolveConfig([{ source: 'test', data: { limits: { memoryMiB: 160 } } }]);
    expect(cfg.flows.maxFlows).toBe(flowsForBudget(160));
    expect(cfg.flows.maxFlows).toBeLessThan(defaultConfig().flows.maxFlows);
    for (const [name, d] of Object.entries(cfg.detectors)) {
      for (const key of capKeysOf(name)) expect((d as unknown as Record<string, number>)[key], `${name}.${key}`).toBeGreaterThanOrEqual(1000);
    }
  });

  it('every registered detector has its caps in CAP_KEYS, each a key of its defaults', () => {
    for (const s of DETECTORS) {
      expect(CAP_KEYS[s.name], s.name).toBeDefined();
      for (const k of capKeysOf(s.name)) expect(typeof (s.defaults as Record<string, unknown>)[k], `${s.name}.${k}`).toBe('number');
    }
  });

  it('the summary names each cap that evicted, with the count, the cap and its key', () => {
    expect(capLines([{ name: 'flow table', key: 'flows.maxFlows', cap: 200_000, entries: 200_000, evicted: 1_234_567 },
      { name: 'port_scan pairs', key: 'detectors.port_scan.maxPairs', cap: 50_000, entries: 3, evicted: 0 }])).toEqual([
      'state caps that evicted (to stay within the memory budget, limits.memoryMiB):',
      '  flow table: 1,234,567 evicted at cap 200,000 (flows.maxFlows; 200,000 held at the end)',
    ]);
    expect(capLines([])).toEqual(['state caps: nothing evicted']);
  });
});
