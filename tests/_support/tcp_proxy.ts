/**
 * A TCP proxy in front of Postgres that a test can "unplug": stop() refuses new connections and
 * cuts open ones, start() serves again on the same port. Lets a test take the database away from
 * one function process without stopping the database other tests share.
 *
 * freeze() makes every connection a dead socket: bytes stop moving both ways (and new connections
 * are accepted but never answered) without anything being closed, as when a network path or the
 * server hangs; thaw() lets them move again.
 */
export class TcpProxy {
  #listener?: Deno.Listener;
  #connections = new Set<Deno.Conn>();
  #frozen?: Promise<void>;
  #thaw?: () => void;
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
    // Either side ending ends both (Postgres does not use half-closed connections).
    await Promise.race([this.#pump(client, upstream), this.#pump(upstream, client)]);
    for (const conn of [client, upstream]) {
      this.#connections.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  }

  async #pump(from: Deno.Conn, to: Deno.Conn) {
    const buffer = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        while (this.#frozen) await this.#frozen;
        const n = await from.read(buffer);
        if (n === null) return;
        // Bytes read while frozen wait here, so nothing moves until thaw().
        while (this.#frozen) await this.#frozen;
        let written = 0;
        while (written < n) written += await to.write(buffer.subarray(written, n));
      }
    } catch {
      // closed
    }
  }

  freeze(): void {
    this.#frozen ??= new Promise((resolve) => (this.#thaw = resolve));
  }

  thaw(): void {
    const thaw = this.#thaw;
    this.#frozen = undefined;
    this.#thaw = undefined;
    thaw?.();
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
