// Hosts as sockets see them. A URL's host as a socket connects to it: WHATWG URL.hostname keeps an IPv6 address's brackets ("[::1]"),
// which net.connect, tls.connect and node:http's `hostname` option do not take.
export function socketHost(url: URL): string {
  const h = url.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** A loopback address as kubepki takes one to listen on or to come from: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackAddress(address: string): boolean {
  return /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|localhost)$/.test(address);
}
