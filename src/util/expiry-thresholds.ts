// When to warn that a certificate expires: 30, 7 and 1 days before (Warning Events with reason
// CertificateExpirationWarning, from serve for the control plane and from the agent for its node).
export const EXPIRY_WARNING_DAYS = [30, 7, 1] as const;
export const EXPIRY_EVENT_REASON = 'CertificateExpirationWarning';
const DAY = 86400_000;

/** The nearest threshold (days) a certificate has crossed, or undefined when it has more than 30 days left or has expired. */
export function crossedThreshold(notAfter: Date, now: Date): number | undefined {
  const left = notAfter.getTime() - now.getTime();
  if (left <= 0) return undefined;
  return [...EXPIRY_WARNING_DAYS].reverse().find((d) => left <= d * DAY);
}
