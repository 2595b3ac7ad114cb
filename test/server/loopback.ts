import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';

const servers: http.Server[] = [];

/** A real node:http server on 127.0.0.1 and a free port, closed (open connections cut) when the file's tests end. */
export async function listen(listener: http.RequestListener): Promise<string> {
  const server = http.createServer(listener);
  if (servers.push(server) === 1) after(closeAll);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeAll(): Promise<void> {
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    }),
  );
}
