import { describe, expect, it } from 'vitest';
import { computeAqi } from './epa-aqi.ts';

describe('computeAqi (EPA-454/B-24-002, May 2024)', () => {
  it.each([
    // [inputs, aqi, category, pollutant]: breakpoint edges and interpolation
    [{ pm25: 0 }, 0, 'Good', 'pm25'],
    [{ pm25: 9.0 }, 50, 'Good', 'pm25'],
    [{ pm25: 9.1 }, 51, 'Moderate', 'pm25'],
    [{ pm25: 35.4 }, 100, 'Moderate', 'pm25'],
    [{ pm25: 35.5 }, 101, 'Unhealthy for Sensitive Groups', 'pm25'],
    [{ pm25: 55.5 }, 151, 'Unhealthy', 'pm25'],
    [{ pm25: 90.45 }, 175, 'Unhealthy', 'pm25'], // truncated to 90.4: 151 + 49/69.9 × 34.9 = 175.5 → 175
    [{ pm25: 125.5 }, 201, 'Very Unhealthy', 'pm25'],
    [{ pm25: 225.5 }, 301, 'Hazardous', 'pm25'],
    [{ pm25: 900 }, 500, 'Hazardous', 'pm25'],
    [{ pm10: 154.9 }, 100, 'Moderate', 'pm10'],
    [{ pm10: 155 }, 101, 'Unhealthy for Sensitive Groups', 'pm10'],
    [{ no2: 188 }, 99, 'Moderate', 'no2'], // 188 µg/m³ × 24.45/46.01 = 99.9 ppb → 99 ppb
    [{ o3: 137 }, 97, 'Moderate', 'o3'], // 137 µg/m³ × 24.45/48 = 0.0697 ppm → 0.069 ppm
    [{ o3: 240 }, 218, 'Very Unhealthy', 'o3'], // the EU alert threshold: 0.122 ppm, 201 + 99/0.094 × 0.016
    [{ pm25: 12, pm10: 300 }, 173, 'Unhealthy', 'pm10'],
  ])('%j → %i %s (%s)', (inputs, aqi, category, pollutant) => {
    expect(computeAqi(inputs)).toEqual({ aqi, category, pollutant });
  });

  it('has no index without a pollutant', () => {
    expect(computeAqi({})).toBeUndefined();
  });
});
