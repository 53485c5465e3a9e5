/**
 * What the city is going through at one device and instant: its climate and the episodes of a scenario (smog under
 * an inversion, a cold snap, a jam, a leak, a voltage sag…). The family models read it; `NORMAL_CONDITIONS` is a
 * quiet day, and a reading generated without conditions is exactly what it was before scenarios existed.
 */
export interface Conditions {
  /** Added to the outdoor temperature, °C: the city's climate (Astana is colder than Almaty) and cold snaps. */
  temperatureOffsetC: number;
  /** PM2.5 the air holds during a smog episode, µg/m³; 0 when there is none. Readings rise towards it. */
  smogPm25: number;
  /** A temperature inversion: the air is still (wind speed falls), which is what traps the smog. */
  inversion: boolean;
  /** This detector sits in a jam: occupancy near 1, walking-pace speed. */
  jam: boolean;
  /** Water running out through a leak behind this meter, L/h. */
  leakLph: number;
  /** Network pressure lost to a leak or a main break, bar. */
  pressureDropBar: number;
  /** The voltage during a sag, V; 0 when there is none. */
  sagVoltageV: number;
  /** District heating plant trouble: the supply is this much colder than its schedule, K. */
  supplyDropK: number;
  /** A power outage: the meter is dark and sends nothing. */
  powerOut: boolean;
}

export const NORMAL_CONDITIONS: Readonly<Conditions> = Object.freeze({
  temperatureOffsetC: 0,
  smogPm25: 0,
  inversion: false,
  jam: false,
  leakLph: 0,
  pressureDropBar: 0,
  sagVoltageV: 0,
  supplyDropK: 0,
  powerOut: false,
});
