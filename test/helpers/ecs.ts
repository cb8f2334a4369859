/**
 * ECS conformance of our documents, against the official field list of the
 * version we declare (an extract: schemas/ecs/ecs-<version>-fields.csv, rows
 * verbatim from elastic/ecs generated/csv/fields.csv). Every leaf field a
 * document carries must be an ECS field of that version (or one of ours
 * under tapwatch.*), its value must fit the field's type, and fields whose
 * ECS normalization is "array" must be arrays.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ECS_VERSION, TAPWATCH_FIELDS } from '../../src/alerts/format/ecs.js';

export interface EcsField { name: string; type: string; normalization: string[] }

/** RFC 4180 rows (quoted fields may hold commas and doubled quotes) */
function csvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cur); cur = ''; } else if (c === '\n') { row.push(cur); rows.push(row); row = []; cur = ''; } else if (c !== '\r') cur += c;
  }
  if (cur !== '' || row.length) { row.push(cur); rows.push(row); }
  return rows;
}

export const ECS_FIELDS_FILE = fileURLToPath(new URL(`../../schemas/ecs/ecs-${ECS_VERSION}-fields.csv`, import.meta.url));

export function loadEcsFields(file = ECS_FIELDS_FILE): Map<string, EcsField> {
  const text = readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n');
  const [head, ...rows] = csvRows(text);
  const col = (n: string): number => head!.indexOf(n);
  const [v, f, t, norm] = [col('ECS_Version'), col('Field'), col('Type'), col('Normalization')];
  const out = new Map<string, EcsField>();
  for (const r of rows) {
    if (r.length < head!.length) continue;
    if (r[v] !== ECS_VERSION) throw new Error(`${file}: row for ${r[f]} is ECS ${r[v]}, not ${ECS_VERSION}`);
    out.set(r[f]!, { name: r[f]!, type: r[t]!, normalization: r[norm] ? r[norm]!.split(/\s*,\s*/) : [] });
  }
  return out;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

function fits(type: string, v: unknown): boolean {
  switch (type) {
    case 'keyword': case 'match_only_text': case 'text': case 'constant_keyword': case 'wildcard': return typeof v === 'string';
    case 'long': case 'integer': case 'short': case 'byte': return Number.isInteger(v);
    case 'float': case 'double': case 'scaled_float': case 'half_float': return typeof v === 'number' && Number.isFinite(v);
    case 'boolean': return typeof v === 'boolean';
    case 'ip': return typeof v === 'string' && isIP(v) !== 0;
    case 'date': return typeof v === 'string' && ISO.test(v);
    case 'flattened': case 'object': return typeof v === 'object' && v !== null && !Array.isArray(v);
    default: return false;
  }
}

/** every leaf field name of a document (dotted), stopping at flattened fields; arrays of scalars are leaves */
export function leafFields(doc: Record<string, unknown>, stopAt: ReadonlySet<string>, prefix = ''): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  for (const [k, v] of Object.entries(doc)) {
    const name = prefix + k;
    if (!stopAt.has(name) && typeof v === 'object' && v !== null && !Array.isArray(v)) out.push(...leafFields(v as Record<string, unknown>, stopAt, name + '.'));
    else out.push([name, v]);
  }
  return out;
}

const FLATTENED = new Set(Object.entries(TAPWATCH_FIELDS).filter(([, t]) => t === 'flattened').map(([n]) => n));

/** problems with one ECS document: [] when it conforms */
export function ecsProblems(doc: Record<string, unknown>, fields: Map<string, EcsField> = loadEcsFields()): string[] {
  const problems: string[] = [];
  for (const [name, v] of leafFields(doc, FLATTENED)) {
    const custom = (TAPWATCH_FIELDS as Record<string, string>)[name];
    const f: EcsField | undefined = custom !== undefined ? { name, type: custom, normalization: [] } : fields.get(name);
    if (!f) { problems.push(`${name}: not an ECS ${ECS_VERSION} field${name.startsWith('tapwatch.') ? ' nor a declared tapwatch field' : ''}`); continue; }
    if (f.normalization.includes('array') && !Array.isArray(v)) problems.push(`${name}: ECS normalization is array, got ${JSON.stringify(v)}`);
    for (const x of Array.isArray(v) ? v : [v]) if (!fits(f.type, x)) problems.push(`${name}: ${JSON.stringify(x)} does not fit ECS type ${f.type}`);
  }
  return problems;
}
