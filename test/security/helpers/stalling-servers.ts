/**
 * Servers that stall, on 127.0.0.1: an http server that answers headers, sends a few bytes of
 * a long body and then nothing; a TCP server that accepts and never speaks. close() drops
 * every connection they hold.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';

export interface StallingServers {
  /** Port of the http server that stalls mid-body. */
  httpPort: number;
  /** Port of the TCP server that never speaks. */
  silentPort: number;
  close(): Promise<void>;
}

export async function startStallingServers(): Promise<StallingServers> {
  const http = createHttpServer((_req, res) => {
    res.writeHead(200, { 'content-length': '1000000' });
    res.write('partial');
  });
  const sockets = new Set<Socket>();
  const silent = createTcpServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const port = (s: { address(): unknown }) => (s.address() as { port: number }).port;
  return {
    httpPort: port(http),
    silentPort: port(silent),
    async close() {
      http.closeAllConnections();
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise((r) => http.close(r)), new Promise((r) => silent.close(r))]);
    },
  };
}
