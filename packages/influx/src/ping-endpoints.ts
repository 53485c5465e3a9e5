/** One health endpoint and the statuses that mean "up". */
export interface PingProbe {
  readonly path: string;
  readonly isUp: (status: number) => boolean;
}

/** true as soon as one probe, tried in order, answers a status it accepts; never throws. */
export async function pingEndpoints(
  baseUrl: string,
  probes: readonly PingProbe[],
  timeoutMs: number,
): Promise<boolean> {
  for (const probe of probes) {
    try {
      const response = await fetch(`${baseUrl}${probe.path}`, { signal: AbortSignal.timeout(timeoutMs) });
      await response.body?.cancel();
      if (probe.isUp(response.status)) return true;
    } catch {
      // unreachable or timed out: try the next probe, then answer false
    }
  }
  return false;
}
