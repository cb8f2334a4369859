/**
 * schemas/event.schema.json and schemas/alert.schema.json against the
 * TypeScript types they describe (src/events/types.ts, src/alerts/types.ts),
 * read with the TypeScript compiler: every property of every event type is
 * in the schema with the same optionality, and the schema has none the type
 * lacks. A field added to a type without the schema fails here; one that is
 * emitted but not in a type fails the validation in the capture tests.
 */
import { describe, it, expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ALERT_SCHEMA, EVENT_SCHEMA, validateAlerts, validateEvents } from '../../helpers/schemas.js';
import { EVENT_TYPES } from '../../../src/events/types.js';

interface Prop { name: string; optional: boolean }
interface TypeInfo { literals: string[]; props: Prop[] }

const root = (p: string) => fileURLToPath(new URL(`../../../${p}`, import.meta.url));

/** properties (own and inherited) of every member of a union type alias, or of an interface */
function typeInfo(file: string, name: string): TypeInfo[] {
  const program = ts.createProgram([root(file)], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true });
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(root(file))!;
  // an exported type, or a module-private interface (incidents.ts's timeline Entry)
  const decl = sf.statements.find((st): st is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(st) && st.name.text === name);
  const sym = checker.getExportsOfModule(checker.getSymbolAtLocation(sf)!).find((s) => s.name === name) ?? (decl ? checker.getSymbolAtLocation(decl.name) : undefined);
  if (!sym) throw new Error(`${name} not declared in ${file}`);
  const t = checker.getDeclaredTypeOfSymbol(sym);
  const members = t.isUnion() ? t.types : [t];
  return members.map((m) => {
    const props = checker.getPropertiesOfType(m).map((p) => ({ name: p.name, optional: (p.flags & ts.SymbolFlags.Optional) !== 0 }));
    const typeProp = m.getProperty('type');
    const literals: string[] = [];
    if (typeProp) {
      const tt = checker.getTypeOfSymbol(typeProp);
      for (const x of tt.isUnion() ? tt.types : [tt]) if (x.isStringLiteral()) literals.push(x.value);
    }
    return { literals, props };
  });
}

type Schema = { properties?: Record<string, unknown>; required?: string[]; $ref?: string; allOf?: Array<{ if: { properties: { type: { const: string } } }; then: { $ref: string } }>; $defs?: Record<string, Schema> };

/** a def with its $ref'd base merged (the shape the event schema uses) */
function flatDef(schema: Schema, ref: string): { props: Set<string>; required: Set<string> } {
  const def = schema.$defs![ref.replace('#/$defs/', '')]!;
  const props = new Set(Object.keys(def.properties ?? {}));
  const required = new Set(def.required ?? []);
  if (def.$ref) {
    const b = flatDef(schema, def.$ref);
    for (const p of b.props) props.add(p);
    for (const r of b.required) required.add(r);
  }
  return { props, required };
}

/** internal time fields that eventToJson leaves out (ts and query_ts are written from them) */
const NOT_SERIALISED = new Set(['tsSec', 'tsNsec', 'tsDigits', 'queryTsSec', 'queryTsNsec']);

describe('schemas/event.schema.json', () => {
  const schema = EVENT_SCHEMA as Schema;
  const branches = new Map(schema.allOf!.map((b) => [b.if.properties.type.const, b.then.$ref]));

  it('is valid draft 2020-12 and lists exactly the event types', () => {
    expect(new Ajv2020({ strict: true, strictTypes: false, validateFormats: false }).validateSchema(EVENT_SCHEMA)).toBe(true);
    expect([...branches.keys()].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('has every field of every NetEvent member, with its optionality, and no other', () => {
    const members = typeInfo('src/events/types.ts', 'NetEvent');
    expect(members.length).toBeGreaterThanOrEqual(10);
    for (const m of members) {
      expect(m.literals.length, JSON.stringify(m.props.map((p) => p.name))).toBeGreaterThan(0);
      for (const lit of m.literals) {
        const ref = branches.get(lit);
        expect(ref, `event type ${lit} has no schema branch`).toBeDefined();
        const d = flatDef(schema, ref!);
        const want = m.props.filter((p) => !NOT_SERIALISED.has(p.name));
        expect([...d.props].sort(), `${lit}: schema properties vs TypeScript`).toEqual(want.map((p) => p.name).sort());
        expect([...d.required].sort(), `${lit}: required vs non-optional`).toEqual(want.filter((p) => !p.optional).map((p) => p.name).sort());
      }
    }
  });

  it('rejects an unknown field, a wrong type and a missing field', () => {
    const ok = { ts: 1700000000.5, type: 'tcp_syn', src: '10.0.0.1', sport: 1234, dst: 'fd00::2', dport: 80, proto: 'tcp', size: 60 };
    expect(validateEvents([ok])).toBe(1);
    expect(() => validateEvents([{ ...ok, extra: 1 }])).toThrow(/does not match/);
    expect(() => validateEvents([{ ...ok, sport: '1234' }])).toThrow(/does not match/);
    expect(() => validateEvents([{ ...ok, src: 'not-an-ip' }])).toThrow(/does not match/);
    const { size: _s, ...noSize } = ok;
    expect(() => validateEvents([noSize])).toThrow(/does not match/);
    expect(() => validateEvents([{ ...ok, type: 'conn' }])).toThrow(/does not match/);
    expect(() => validateEvents([{ ...ok, type: 'martian' }])).toThrow(/does not match/);
  });
});

describe('schemas/alert.schema.json', () => {
  const schema = ALERT_SCHEMA as Schema;
  it('is valid draft 2020-12', () => {
    expect(new Ajv2020({ strict: true, strictTypes: false, validateFormats: false }).validateSchema(ALERT_SCHEMA)).toBe(true);
  });
  it('has every field of Alert with its optionality (plus the sensor the json payload adds), and no other', () => {
    const [alert] = typeInfo('src/alerts/types.ts', 'Alert');
    expect([...Object.keys(schema.properties!)].sort()).toEqual([...alert!.props.map((p) => p.name), 'sensor'].sort());
    expect([...schema.required!].sort()).toEqual([...alert!.props.filter((p) => !p.optional).map((p) => p.name), 'sensor'].sort());
  });
  it('fixes the evidence of incident records: its timeline entries are incidents.ts Entry without key and confidence', () => {
    const defs = (ALERT_SCHEMA as { $defs: Record<string, { properties: Record<string, unknown>; required: string[] }> }).$defs;
    const [entry] = typeInfo('src/alerts/incidents.ts', 'Entry');
    const written = entry!.props.filter((p) => p.name !== 'key' && p.name !== 'confidence');
    expect(Object.keys(defs.incident_entry!.properties).sort()).toEqual(written.map((p) => p.name).sort());
    expect([...defs.incident_entry!.required].sort()).toEqual(written.filter((p) => !p.optional).map((p) => p.name).sort());
    const inc = { ts: 1, ts_first: 0, ts_last: 1, sensor: 's', kind: 'incident', id: 'inc-0123456789abcdef', severity: 'high', confidence: 0.5, summary: 'x', count: 2,
      evidence: { incident_id: 'inc-0123456789abcdef', stages: ['scan'], alerts: 2, attackers: ['10.0.0.1'], victims: [], timeline: [] } };
    expect(validateAlerts([inc])).toBe(1);
    expect(() => validateAlerts([{ ...inc, evidence: { ...inc.evidence, stages: ['recon'] } }])).toThrow(/does not match/);
    expect(() => validateAlerts([{ ...inc, evidence: { ...inc.evidence, extra: 1 } }])).toThrow(/does not match/);
    // shrunk for RFC 3164 syslog: only marked leftovers
    expect(validateAlerts([{ ...inc, evidence: { alerts: 2, shortened: true } }])).toBe(1);
  });

  it('rejects an unknown top-level field and a bad severity, accepts any evidence', () => {
    const ok = { ts: 1, ts_first: 0, ts_last: 1, sensor: 's', kind: 'port_scan', severity: 'high', confidence: 0.5, summary: 'x', evidence: { any: { nested: [1] } } };
    expect(validateAlerts([ok])).toBe(1);
    expect(() => validateAlerts([{ ...ok, extra: true }])).toThrow(/does not match/);
    expect(() => validateAlerts([{ ...ok, severity: 'urgent' }])).toThrow(/does not match/);
    expect(() => validateAlerts([{ ...ok, technique: 'Brute Force' }])).toThrow(/does not match/);
  });
});
