/**
 * Validation of what tapwatch writes against its published JSON Schemas
 * (schemas/event.schema.json, schemas/alert.schema.json, draft 2020-12),
 * with ajv. Every test that produces events or alerts calls these, so a
 * field added to an event or an alert without the schema fails a test.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS: its default export arrives wrapped under ESM interop
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (a: Ajv2020) => Ajv2020;

export const EVENT_SCHEMA = JSON.parse(readFileSync(new URL('../../schemas/event.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;
export const ALERT_SCHEMA = JSON.parse(readFileSync(new URL('../../schemas/alert.schema.json', import.meta.url), 'utf8')) as Record<string, unknown>;

let compiled: { event: ValidateFunction; alert: ValidateFunction } | null = null;

function validators(): { event: ValidateFunction; alert: ValidateFunction } {
  if (!compiled) {
    const ajv = new Ajv2020({ allErrors: false, strict: true, strictTypes: false });
    addFormats(ajv);
    compiled = { event: ajv.compile(EVENT_SCHEMA), alert: ajv.compile(ALERT_SCHEMA) };
  }
  return compiled;
}

function describe(errs: ErrorObject[] | null | undefined): string {
  return (errs ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : ''}`).join('; ');
}

type Input = string | Record<string, unknown>;

function check(kind: 'event' | 'alert', items: Iterable<Input>, where: string): number {
  const v = validators()[kind];
  let n = 0;
  for (const it of items) {
    if (typeof it === 'string' && it.trim() === '') continue;
    const obj: unknown = typeof it === 'string' ? JSON.parse(it) : it;
    n++;
    if (!v(obj)) {
      const shown = JSON.stringify(obj);
      throw new Error(`${where}: ${kind} #${n} does not match schemas/${kind}.schema.json: ${describe(v.errors)}\n  ${shown.length > 600 ? shown.slice(0, 600) + '…' : shown}`);
    }
  }
  return n;
}

/** Throws naming the first event (JSON line or parsed object) that the event schema rejects; returns how many were checked. */
export function validateEvents(items: Iterable<Input> | string, where = 'events'): number {
  return check('event', typeof items === 'string' ? items.split('\n') : items, where);
}

/** Throws naming the first alert (json payload line or parsed object) that the alert schema rejects; returns how many were checked. */
export function validateAlerts(items: Iterable<Input> | string, where = 'alerts'): number {
  return check('alert', typeof items === 'string' ? items.split('\n') : items, where);
}
