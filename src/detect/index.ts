/** The detector registry: builds the enabled detectors from the configuration. */
import type { Detector } from './detector.js';
import type { Config } from '../config.js';
import { SizeAnomaly } from './size-anomaly.js';
import { TypeFrequency } from './type-frequency.js';
import { EventRate } from './event-rate.js';

export function buildDetectors(cfg: Config): Detector[] {
  const d = cfg.detectors;
  const out: Detector[] = [];
  if (d.size_anomaly.enabled) out.push(new SizeAnomaly(d.size_anomaly));
  if (d.type_frequency.enabled) out.push(new TypeFrequency(d.type_frequency));
  if (d.event_rate.enabled) out.push(new EventRate(d.event_rate));
  return out;
}
