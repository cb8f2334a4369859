/** Alert sinks: file / stdout, syslog (udp, tcp, unix-stream) with an on-disk spool. */
export type { AlertSink, SinkLogger, LogLevel, PayloadFormat } from './sink.js';
export { nullLogger, parsePayloadFormat } from './sink.js';
export { FileSink, createFileSink, type FileSinkOptions } from './file.js';
export { StdoutSink, type StdoutSinkOptions } from './stdout.js';
export { SyslogSink, parseSyslogTarget, type SyslogSinkOptions, type SyslogTarget } from './syslog.js';
export {
  buildRfc5424,
  buildRfc3164,
  structuredData,
  parseFacility,
  FACILITIES,
  DEFAULT_FACILITY,
  type FacilityName,
  type SyslogBuildOptions,
} from './syslog-format.js';
export { SpoolFile, SpoolingStreamSender, DEFAULT_SPOOL_MAX_BYTES } from './spool.js';
