/**
 * What the registry (index.ts) and every detector file share: the spec a
 * detector exports and the context it is built with. In a module of its own
 * so detectors never import the registry that imports them.
 */
import type { Detector } from './detector.js';
import type { CidrSet } from '../util/cidr.js';

/** What every detector may consult besides its own configuration. */
export interface DetectorContext {
  /** HOME_NET: "inside" for direction-aware detectors (exfiltration, scans from outside) */
  homeNet: CidrSet;
}

export interface DetectorSpec<C extends object = object> {
  readonly name: string;
  /** defaults, documented in the detector's file next to the anchors' defaults */
  readonly defaults: C;
  /** false: opt-in (`enabled: true` in its config); the reason is in the detector's header. Default true */
  readonly enabledByDefault?: boolean;
  create(cfg: C, ctx: DetectorContext): Detector;
}

export type DetectorSettings = Record<string, unknown> & { enabled: boolean };
