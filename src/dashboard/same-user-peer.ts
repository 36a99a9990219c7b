// Whether a loopback connection comes from a process of the dashboard's own OS user, read from the kernel's socket
// table (/proc/net/tcp and tcp6) as identd answers "who owns this connection": the client's end of a loopback
// connection is a socket of this host, listed with its owner's uid.
//
// Why: loopback is shared by every user of the host, so the dashboard must not open to any local process. But a
// browser of the user who started it (who can read the kubeconfig anyway) should open the bare address, as
// `kubectl proxy`'s does. Other users, and hosts without /proc, need the printed access link.
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import { isLoopbackAddress } from '../util/socket-host.js';

/** True when the socket's peer is a loopback socket owned by this process's uid; false when unknown. */
export async function peerIsSameUser(socket: net.Socket): Promise<boolean> {
  const uid = process.getuid?.();
  const { remoteAddress, remotePort, localAddress, localPort } = socket;
  if (uid === undefined || !remoteAddress || !localAddress || remotePort === undefined || localPort === undefined) return false;
  // A dual-stack listener names an IPv4 peer ::ffff:127.0.0.1.
  if (!isLoopbackAddress(remoteAddress.replace(/^::ffff:/i, ''))) return false;
  // The client's socket: its local end is our peer, its remote end is us. A dual-stack listener sees an IPv4
  // client as ::ffff:127.0.0.1, while the client's own socket is in the IPv4 table (or, if it too is IPv6, in tcp6).
  const mapped = (a: string) => /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a)?.[1];
  const lookups: [file: string, want: string][] = [];
  const entry = (peer: string, us: string, v4: boolean) => `${procAddress(peer, v4)}:${hex4(remotePort)} ${procAddress(us, v4)}:${hex4(localPort)}`;
  if (net.isIPv4(remoteAddress)) lookups.push(['/proc/net/tcp', entry(remoteAddress, localAddress, true)]);
  else {
    const peer4 = mapped(remoteAddress);
    const us4 = mapped(localAddress);
    if (peer4 && us4) lookups.push(['/proc/net/tcp', entry(peer4, us4, true)]);
    lookups.push(['/proc/net/tcp6', entry(remoteAddress, localAddress, false)]);
  }
  for (const [file, want] of lookups) {
    const owner = await ownerOf(file, want);
    if (owner !== undefined) return owner === uid;
  }
  return false;
}

/** The uid of the socket whose `local remote` addresses are `want` in the table `file`. */
async function ownerOf(file: string, want: string): Promise<number | undefined> {
  let table: string;
  try {
    table = await readFile(file, 'latin1');
  } catch {
    return undefined;
  }
  for (const line of table.split('\n')) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
    const f = line.trim().split(/\s+/);
    if (f.length <= 9 || `${f[1]} ${f[2]}` !== want) continue;
    // Inode 0: no process holds that end any more (TIME_WAIT after its owner closed it, listed with uid 0), so
    // nobody would read the answer; it owns nothing.
    return f[9] === '0' ? undefined : Number(f[7]);
  }
  return undefined;
}

const hex4 = (port: number) => port.toString(16).toUpperCase().padStart(4, '0');

/** An address as the kernel prints it: each 32-bit word in host byte order, in upper-case hex. */
function procAddress(address: string, v4: boolean): string {
  const bytes = v4 ? ipv4Bytes(address) : ipv6Bytes(address);
  const little = os.endianness() === 'LE';
  let out = '';
  for (let i = 0; i < bytes.length; i += 4) {
    const word = bytes.slice(i, i + 4);
    if (little) word.reverse();
    out += word.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
  }
  return out;
}

const ipv4Bytes = (a: string): number[] => a.split('.').map(Number);

/** The 16 bytes of an IPv6 address (with `::` and a dotted IPv4 tail, as Node prints `::ffff:127.0.0.1`). */
function ipv6Bytes(address: string): number[] {
  let text = address;
  const tail: number[] = [];
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    tail.push(...ipv4Bytes(dotted[1]!));
    text = text.slice(0, -dotted[1]!.length) + '0:0';
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const words = (s: string | undefined) => (s ? s.split(':').filter((w) => w !== '').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const r = words(rest);
  const all = rest === undefined ? h : [...h, ...Array<number>(8 - h.length - r.length).fill(0), ...r];
  const bytes = all.flatMap((w) => [w >> 8, w & 0xff]);
  if (tail.length) bytes.splice(12, 4, ...tail);
  return bytes;
}
