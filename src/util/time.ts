// The one RFC 3339 formatter for API timestamps and certificate times, as Go marshals them (below x509, so every layer uses it).

/** metav1.Time: RFC 3339 in UTC, whole seconds. */
export const formatTime = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** metav1.MicroTime: RFC 3339 in UTC with microseconds (Lease acquire/renew times). */
export const formatMicroTime = (d: Date): string => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
