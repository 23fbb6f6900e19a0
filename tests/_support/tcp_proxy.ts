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

  /**
   * After stop(): resolves once every client has closed its end, i.e. the process on the other
   * side (a gateway's connection pool) has seen the connection go. Read from the kernel's socket
   * table (/proc/net/tcp): a client socket to this port stays ESTABLISHED or CLOSE_WAIT until its
   * owner closes it. Throws after `timeoutMs`.
   */
  async clientsClosed(timeoutMs = 10_000): Promise<void> {
    const port = this.port.toString(16).toUpperCase().padStart(4, "0");
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const table = await Deno.readTextFile("/proc/net/tcp");
      const open = table.split("\n").slice(1).filter((line) => {
        const [, , remote, state] = line.trim().split(/\s+/);
        // 01 ESTABLISHED, 08 CLOSE_WAIT: the client still holds the socket.
        return remote === `0100007F:${port}` && (state === "01" || state === "08");
      });
      if (open.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(
          `${open.length} client connection(s) to proxy port ${this.port} still open after ${timeoutMs} ms`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
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
