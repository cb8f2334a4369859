/**
 * Streaming capture-file reader: one interface for classic pcap and pcapng,
 * from a path or from stdin ("-"). Reads in large chunks and never holds more
 * than one chunk plus one partial record, so a capture of many gigabytes runs
 * in constant memory.
 *
 * Why not the card's `pcap-parser`: it reads only classic microsecond pcap
 * (no nanosecond magic, no pcapng), allocates a header object and a Buffer
 * slice per packet and triggers Node's deprecated-Buffer warning. The
 * measurement that backs this is in README.md ("Reading captures").
 */
import { createReadStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { detectFormat, FormatError, type RecordParser } from './formats.js';
import type { PacketSink, ReadResult } from './types.js';

export const CHUNK_SIZE = 4 * 1024 * 1024;

/** A user-facing problem with an input (missing, unreadable, not a capture). */
export class InputError extends Error {}

/** Bytes read so far, across inputs (for a progress line); readers add to it per chunk. */
export interface ReadProgress {
  bytes: number;
}

export interface CaptureInfo {
  format: 'pcap' | 'pcapng';
}

/**
 * Reads one capture and feeds every packet to `sink`. Resolves with the counts;
 * a truncated or corrupt tail sets `warning` (everything before it was
 * delivered). Rejects with InputError when the input cannot be read at all or
 * is not a capture.
 */
export async function readCapture(path: string, sink: PacketSink, onInfo?: (i: CaptureInfo) => void, progress?: ReadProgress): Promise<ReadResult> {
  if (path !== '-') return readFileSync(path, sink, onInfo, progress);
  return readStream(process.stdin, 'stdin', sink, onInfo, progress);
}

export function openError(path: string, err: NodeJS.ErrnoException): InputError {
  if (err.code === 'ENOENT') return new InputError(`${path}: no such file`);
  if (err.code === 'EACCES' || err.code === 'EPERM') return new InputError(`${path}: permission denied`);
  if (err.code === 'EISDIR') return new InputError(`${path}: is a directory, not a capture file`);
  return new InputError(`${path}: cannot read (${err.code ?? err.message})`);
}

/**
 * Files are read with synchronous reads into one reused buffer: for a local
 * file this is faster than a stream (no promise or Buffer per chunk) and the
 * pipeline is CPU-bound anyway. Yields to the event loop between chunks so a
 * signal or timer can still run.
 */
async function readFileSync(path: string, sink: PacketSink, onInfo?: (i: CaptureInfo) => void, progress?: ReadProgress): Promise<ReadResult> {
  let fd: number;
  try {
    if (statSync(path).isDirectory()) throw Object.assign(new Error('dir'), { code: 'EISDIR' });
    fd = openSync(path, 'r');
  } catch (e) {
    throw openError(path, e as NodeJS.ErrnoException);
  }
  try {
    let buf = Buffer.allocUnsafe(CHUNK_SIZE);
    let have = 0; // bytes in buf
    let start = 0; // first unconsumed byte
    let parser: RecordParser | null = null;
    let eof = false;
    let chunks = 0;
    while (!eof) {
      // Move the unconsumed tail to the front, growing the buffer if one record exceeds it.
      if (start > 0) {
        buf.copy(buf, 0, start, have);
        have -= start;
        start = 0;
      }
      if (have === buf.length) {
        const bigger = Buffer.allocUnsafe(buf.length * 2);
        buf.copy(bigger, 0, 0, have);
        buf = bigger;
      }
      let n: number;
      try {
        n = readSync(fd, buf, have, buf.length - have, null);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (parser === null) throw openError(path, err);
        return finish(parser, `${path}: read error ${err.code ?? err.message} after ${parser.packets} packets`);
      }
      if (progress) progress.bytes += n;
      if (n === 0) eof = true;
      have += n;
      if (parser === null) {
        if (have < 4 && !eof) continue;
        parser = detectFormat(buf.subarray(0, have));
        if (parser === null) throw new InputError(`${path}: not a pcap or pcapng capture (unknown magic ${buf.subarray(0, Math.min(4, have)).toString('hex') || 'none: empty file'})`);
        onInfo?.({ format: parser.format });
      }
      try {
        start = parser.parse(buf, start, have, sink);
      } catch (e) {
        if (e instanceof FormatError) return finish(parser, `${path}: ${e.message}; stopped after ${parser.packets} packets`);
        throw e;
      }
      if ((++chunks & 3) === 0) await new Promise<void>((r) => setImmediate(r));
    }
    if (start < have) {
      return finish(parser!, `${path}: truncated last record (${have - start} bytes left over); read ${parser!.packets} packets`);
    }
    return finish(parser!);
  } finally {
    closeSync(fd);
  }
}

function finish(parser: RecordParser, warning?: string): ReadResult {
  const r: ReadResult = { packets: parser.packets, bytes: parser.bytes };
  if (warning) r.warning = warning;
  return r;
}

/** Pipes and stdin: chunks arrive as Buffers from the stream; a partial record is carried over. */
async function readStream(stream: Readable, name: string, sink: PacketSink, onInfo?: (i: CaptureInfo) => void, progress?: ReadProgress): Promise<ReadResult> {
  let parser: RecordParser | null = null;
  let tail: Buffer | null = null;
  try {
    for await (const c of stream) {
      let chunk = c as Buffer;
      if (progress) progress.bytes += chunk.length;
      if (tail !== null) {
        chunk = Buffer.concat([tail, chunk]);
        tail = null;
      }
      if (parser === null) {
        if (chunk.length < 4) { tail = chunk; continue; }
        parser = detectFormat(chunk);
        if (parser === null) throw new InputError(`${name}: not a pcap or pcapng capture (unknown magic ${chunk.subarray(0, 4).toString('hex')})`);
        onInfo?.({ format: parser.format });
      }
      let used: number;
      try {
        used = parser.parse(chunk, 0, chunk.length, sink);
      } catch (e) {
        if (e instanceof FormatError) return finish(parser, `${name}: ${e.message}; stopped after ${parser.packets} packets`);
        throw e;
      }
      // Copy the tail: the stream may reuse the chunk's memory.
      if (used < chunk.length) tail = Buffer.from(chunk.subarray(used));
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    const err = e as NodeJS.ErrnoException;
    if (parser === null) throw openError(name, err);
    return finish(parser, `${name}: read error ${err.code ?? err.message} after ${parser.packets} packets`);
  }
  if (parser === null) throw new InputError(`${name}: not a pcap or pcapng capture (${tail ? 'too short' : 'empty input'})`);
  if (tail !== null && tail.length > 0) {
    return finish(parser, `${name}: truncated last record (${tail.length} bytes left over); read ${parser.packets} packets`);
  }
  return finish(parser);
}

/** For tests: read a path through the stream code path. */
export function readCaptureStream(path: string, sink: PacketSink): Promise<ReadResult> {
  return readStream(createReadStream(path, { highWaterMark: CHUNK_SIZE }), path, sink);
}
