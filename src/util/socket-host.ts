// A URL's host as a socket connects to it: WHATWG URL.hostname keeps an IPv6 address's brackets ("[::1]"),
// which net.connect, tls.connect and node:http's `hostname` option do not take.
export function socketHost(url: URL): string {
  const h = url.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}
