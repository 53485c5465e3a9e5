/** Checks shared by the sink factories; a bad option is a bug in the caller's config, so it throws at creation. */
export function checkBaseUrl(url: string, label: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`${label}: url "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new TypeError(`${label}: url must be http(s), got "${url}"`);
  if (parsed.search !== '' || parsed.hash !== '')
    throw new TypeError(`${label}: url must not carry a query or fragment`);
  return url.replace(/\/+$/, '');
}

export function checkNonEmpty(value: string, name: string, label: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new TypeError(`${label}: ${name} must be a non-empty string`);
  return value;
}

export function checkPositiveMs(value: number, name: string, label: string): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`${label}: ${name} must be a positive number of milliseconds, got ${value}`);
  return value;
}
