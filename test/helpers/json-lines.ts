// Watch streams are newline-delimited JSON: calls onLine for each complete line of a response, in order.
import type { IncomingMessage } from 'node:http';

export function onLines(res: IncomingMessage, onLine: (line: string) => void, afterChunk?: () => void): void {
  let buf = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      onLine(line);
    }
    afterChunk?.();
  });
}
