/**
 * Zeek's conn_state for a finished flow (Zeek base/protocols/conn/main.zeek):
 *   S0 attempt, no reply · S1 established, not terminated · SF normal close ·
 *   REJ attempt rejected · S2/S3 established, only orig/resp closed ·
 *   RSTO/RSTR established, orig/resp reset · RSTOS0 orig SYN then RST, no SYN-ACK ·
 *   RSTRH resp SYN-ACK then RST, no SYN seen · SH/SHR half-open close · OTH midstream.
 */
import type { ConnState } from '../events/types.js';
import { IPPROTO_TCP } from '../decode/packet.js';
import type { Flow } from './flow.js';

export function connState(f: Flow): ConnState {
  if (f.proto !== IPPROTO_TCP) return f.respPkts > 0 ? 'SF' : 'S0';
  if (f.established) {
    if (f.origRst) return 'RSTO';
    if (f.respRst) return 'RSTR';
    if (f.origFin && f.respFin) return 'SF';
    if (f.origFin) return 'S2';
    if (f.respFin) return 'S3';
    return 'S1';
  }
  if (f.origSyn) {
    if (f.respRst && !f.respSynAck) return 'REJ';
    if (f.respSynAck && f.origRst) return 'RSTO';
    if (f.origRst) return 'RSTOS0';
    if (f.origFin && !f.respSynAck) return 'SH';
    if (!f.respSynAck && f.respPkts === 0) return 'S0';
    if (f.respRst) return 'RSTR';
    return 'S1';
  }
  if (f.respSynAck) {
    if (f.respRst) return 'RSTRH';
    if (f.respFin) return 'SHR';
  }
  return 'OTH';
}
