/**
 * Starts an extra gateway process for tests that need functions wired differently (e.g. to a
 * database behind a TcpProxy). Stopped by the returned `stop()`.
 */
import { ROOT } from "./env.ts";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

export interface GatewayOptions {
  /** Listen here instead of on a free port. */
  port?: number;
  /** Append the gateway's stdout and stderr (its JSON log lines) to this file. */
  logFile?: string;
}

export async function startGateway(env: Record<string, string>, options: GatewayOptions = {}) {
  const port = options.port ?? freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}tools/gateway.ts`, "--port", String(port)],
    env: { ...Deno.env.toObject(), ...env },
    stdout: options.logFile ? "piped" : "null",
    stderr: options.logFile ? "piped" : "null",
  }).spawn();
  const logging = options.logFile
    ? (async () => {
      const file = await Deno.open(options.logFile!, { create: true, append: true });
      const encoder = new TextEncoder();
      const copy = async (stream: ReadableStream<Uint8Array>) => {
        for await (const chunk of stream) await file.write(chunk);
      };
      await file.write(encoder.encode(`--- gateway on port ${port} started ${new Date().toISOString()}\n`));
      await Promise.allSettled([copy(child.stdout), copy(child.stderr)]);
      file.close();
    })()
    : Promise.resolve();
  const url = `http://127.0.0.1:${port}/functions/v1`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/api/openapi.json`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      // not up yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    port,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      await child.status;
      await logging;
    },
    /** Resolves with the exit status if the process ends (e.g. it failed the isolate). */
    status: child.status,
  };
}
