/**
 * Big-endian reads by byte arithmetic, for the per-packet decoders. Buffer's
 * readUInt16BE/readUInt32BE validate the offset on every call (it shows in
 * profiles); the decoders have already checked their bounds, so these do not.
 * Small enough for V8 to inline.
 */
export function u16be(b: Buffer, o: number): number {
  return b[o]! << 8 | b[o + 1]!;
}

export function u32be(b: Buffer, o: number): number {
  return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16 | b[o + 2]! << 8 | b[o + 3]!);
}

/** Big-endian 32 bits as a signed int32: always a V8 small integer, never a boxed heap number (addresses kept in flows). */
export function i32be(b: Buffer, o: number): number {
  return b[o]! << 24 | b[o + 1]! << 16 | b[o + 2]! << 8 | b[o + 3]!;
}
