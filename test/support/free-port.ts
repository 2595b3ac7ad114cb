/** A free TCP port for the test servers, shared by their launchers (framework apps, `php -S`). */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/** A free TCP port on 127.0.0.1 (the servers listen on all interfaces or on it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
