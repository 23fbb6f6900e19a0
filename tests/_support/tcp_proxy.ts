/**
 * A TCP proxy in front of Postgres that a test can "unplug": stop() refuses new connections and
 * cuts open ones, start() serves again on the same port. Lets a test take the database away from
 * one function process without stopping the database other tests share.
 */
export class TcpProxy {
  #listener?: Deno.Listener;
  #connections = new Set<Deno.Conn>();
  port = 0;

  constructor(private readonly targetPort: number, private readonly targetHost = "127.0.0.1") {}

  start(): void {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: this.port });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accept(this.#listener);
  }

  async #accept(listener: Deno.Listener) {
    try {
      for await (const client of listener) this.#pipe(client);
    } catch {
      // listener closed
    }
  }

  async #pipe(client: Deno.Conn) {
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect({ hostname: this.targetHost, port: this.targetPort });
    } catch {
      client.close();
      return;
    }
    this.#connections.add(client).add(upstream);
    const close = () => {
      for (const conn of [client, upstream]) {
        this.#connections.delete(conn);
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    };
    await Promise.allSettled([
      client.readable.pipeTo(upstream.writable, { preventClose: true }),
      upstream.readable.pipeTo(client.writable, { preventClose: true }),
    ]);
    close();
  }

  stop(): void {
    this.#listener?.close();
    this.#listener = undefined;
    for (const conn of this.#connections) {
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
    this.#connections.clear();
  }
}
