import type { Family } from '@city/schema';

export interface ThresholdSample {
  metric: string;
  comparison: 'above' | 'below';
  threshold: number;
}

/**
 * The alert rules the simulator is built to trip. An over-threshold reading crosses its family's sample clearly;
 * a normal reading never does, so alerts in a simulated run come only from the readings asked for.
 */
export const OVER_THRESHOLD_SAMPLES: Readonly<Record<Family, ThresholdSample>> = {
  traffic: { metric: 'occupancy', comparison: 'above', threshold: 0.95 },
  airquality: { metric: 'pm25', comparison: 'above', threshold: 180 },
  water: { metric: 'pressure', comparison: 'below', threshold: 0.5 },
  electricity: { metric: 'voltage', comparison: 'above', threshold: 260 },
  noise: { metric: 'LAeq', comparison: 'above', threshold: 85 },
  weather: { metric: 'windSpeed', comparison: 'above', threshold: 25 },
  gas: { metric: 'pressure', comparison: 'below', threshold: 0.012 },
  heating: { metric: 'supplyTemperature', comparison: 'below', threshold: 55 },
  parking: { metric: 'occupancy', comparison: 'above', threshold: 0.95 },
};

/**
 * A metric every reading this simulator makes for the family carries, whatever its conditions or sensor trouble:
 * counting it in InfluxDB counts the family's points (the load command's "stored").
 */
export const ALWAYS_SENT_METRIC: Readonly<Record<Family, string>> = {
  traffic: 'intensity',
  airquality: 'pm25',
  water: 'flow',
  electricity: 'voltage',
  noise: 'LAeq',
  weather: 'temperature',
  gas: 'flow',
  heating: 'supplyTemperature',
  parking: 'occupancy',
};
