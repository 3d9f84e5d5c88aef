import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Requests Node's HTTP parser refuses before Express sees them (a request line and headers over its
 * 16 KB limit, a malformed request) are answered in the API's error shape with an X-Request-Id, as
 * every other refusal is, instead of Node's bare status line. The connection is closed after: what
 * follows on it cannot be trusted to start a request.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable || !err.code?.startsWith('HPE_')) {
      socket.destroy();
      return;
    }
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const requestId = randomUUID();
    const error = tooLarge
      ? { code: 'PAYLOAD_TOO_LARGE', message: 'The request line and headers are too large (16 KB at most)', requestId }
      : { code: 'VALIDATION_ERROR', message: 'The request is not valid HTTP', requestId };
    const body = JSON.stringify({ error });
    socket.end(
      `HTTP/1.1 ${tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}
