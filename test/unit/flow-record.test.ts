import { describe, it, expect } from 'vitest';
import { Flow } from '../../src/flows/flow.js';

/** Fields the table and tracker set on every create/init, so reset() need not touch them. */
const SET_ON_CREATE = new Set(['ver', 'proto', 'a0', 'a1', 'a2', 'a3', 'aport', 'b0', 'b1', 'b2', 'b3', 'bport', 'hash', 'cls', 'startTs', 'startSec', 'startNsec', 'startDigits', 'last']);

describe('flow records are recycled', () => {
  it('a reset record equals a new one in every field not set at creation (a field added without a reset would leak between flows)', () => {
    const used = new Flow() as unknown as Record<string, unknown>;
    for (const k of Object.keys(used)) {
      const v = used[k];
      used[k] = typeof v === 'number' ? 12345 : typeof v === 'string' ? 'stale' : typeof v === 'boolean' ? !v : {};
    }
    (used as unknown as Flow).reset();
    const fresh = new Flow() as unknown as Record<string, unknown>;
    const leaked = Object.keys(fresh).filter((k) => !SET_ON_CREATE.has(k) && used[k] !== fresh[k]);
    expect(leaked).toEqual([]);
  });

  it('the TCP state bits read back as the booleans they replace', () => {
    const f = new Flow();
    f.origSyn = true; f.respRst = true; f.outcome = true;
    expect([f.origSyn, f.respSynAck, f.respRst, f.outcome, f.established]).toEqual([true, false, true, true, false]);
    f.origSyn = false;
    expect([f.origSyn, f.respRst, f.outcome]).toEqual([false, true, true]);
  });
});
