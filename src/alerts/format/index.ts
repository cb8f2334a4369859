import type { AlertFormatter } from './context.js';
import { formatCef } from './cef.js';
import { formatEcs } from './ecs.js';
import { formatJson } from './json.js';
import { formatText } from './text.js';

export type { AlertFormatter, FormatContext } from './context.js';
export { formatCef, formatEcs, formatJson, formatText };

export type FormatName = 'json' | 'ecs' | 'cef' | 'text';

export const FORMATTERS: Readonly<Record<FormatName, AlertFormatter>> = {
  json: formatJson,
  ecs: formatEcs,
  cef: formatCef,
  text: formatText,
};

export function isFormatName(s: string): s is FormatName {
  return Object.prototype.hasOwnProperty.call(FORMATTERS, s);
}

/** formatter by name; throws a clear error for an unknown name */
export function getFormatter(name: string): AlertFormatter {
  if (!isFormatName(name)) {
    throw new Error(`unknown alert format "${name}" (expected one of ${Object.keys(FORMATTERS).join(', ')})`);
  }
  return FORMATTERS[name];
}
