/** Builds the alert sinks a configuration names (tapwatch run), checking every value first. */
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import type { AlertSink, SinkLogger } from './sink.js';
import { parsePayloadFormat } from './sink.js';
import { createFileSink } from './file.js';
import { StdoutSink } from './stdout.js';
import { SyslogSink, parseSyslogTarget } from './syslog.js';
import { parseFacility } from './syslog-format.js';
import type { FormatContext } from '../alerts/format/index.js';
import { RedisSink, parseRedisUrl } from './redis.js';

function check<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new ConfigError(`${path}: ${(e as Error).message}`);
  }
}

/** Throws ConfigError naming the key of the first bad output setting. */
export function validateOutputs(cfg: Config): void {
  const o = cfg.outputs;
  if (o.file.path) check('outputs.file.format', () => parsePayloadFormat(o.file.format));
  check('outputs.stdout.format', () => parsePayloadFormat(o.stdout.format, true));
  o.syslog.forEach((s, i) => {
    const p = `outputs.syslog[${i}]`;
    check(`${p}.url`, () => parseSyslogTarget(s.url));
    check(`${p}.format`, () => parsePayloadFormat(s.format));
    check(`${p}.facility`, () => parseFacility(s.facility));
    if (s.protocol !== 'rfc5424' && s.protocol !== 'rfc3164') throw new ConfigError(`${p}.protocol: expected rfc5424 or rfc3164, got "${s.protocol}"`);
  });
  const r = o.redis;
  if (r.url) {
    check('outputs.redis.url', () => parseRedisUrl(r.url));
    if (r.format !== 'json' && r.format !== 'ecs') throw new ConfigError(`outputs.redis.format: expected json or ecs, got "${r.format}"`);
    if (!r.stream) throw new ConfigError('outputs.redis.stream: empty stream key');
    if (r.events && !r.eventsStream) throw new ConfigError('outputs.redis.eventsStream: empty stream key');
    if (!Number.isInteger(r.maxLen) || r.maxLen < 1) throw new ConfigError(`outputs.redis.maxLen: expected a positive integer, got ${r.maxLen}`);
  }
}

export function buildSinks(cfg: Config, ctx: FormatContext, logger: SinkLogger): AlertSink[] {
  validateOutputs(cfg);
  const o = cfg.outputs;
  const sinks: AlertSink[] = [];
  if (o.file.path) sinks.push(createFileSink({ path: o.file.path, format: parsePayloadFormat(o.file.format), ctx, logger }));
  if (o.stdout.enabled) sinks.push(new StdoutSink({ format: parsePayloadFormat(o.stdout.format, true) as 'json', ctx, logger }));
  for (const s of o.syslog) {
    sinks.push(new SyslogSink({
      target: s.url, protocol: s.protocol, format: parsePayloadFormat(s.format), facility: s.facility,
      ...(s.hostname ? { hostname: s.hostname } : {}), appName: s.appName, sensor: ctx.sensor, version: ctx.version,
      ...(s.spoolDir ? { spoolDir: s.spoolDir } : {}), spoolMaxBytes: s.spoolMaxBytes, logger,
    }));
  }
  if (o.redis.url) {
    const r = o.redis;
    sinks.push(new RedisSink({
      url: r.url, stream: r.stream, maxLen: r.maxLen, format: r.format as 'json' | 'ecs', ctx, logger,
      ...(r.events ? { eventsStream: r.eventsStream } : {}), ...(r.spoolDir ? { spoolDir: r.spoolDir } : {}), spoolMaxBytes: r.spoolMaxBytes,
    }));
  }
  return sinks;
}
