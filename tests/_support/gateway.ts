/**
 * Starts an extra gateway process for tests that need functions wired differently (e.g. to a
 * database behind a TcpProxy). Stopped by the returned `stop()`. Throws, with the gateway's own
 * last output lines, when it exits or does not answer within 30 s: a test never runs against a
 * gateway that is not there.
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

/**
 * Reads a child's output in the background, keeping the last lines (for error messages) and,
 * when given, appending everything to `file`.
 */
function collect(streams: ReadableStream<Uint8Array>[], file: Deno.FsFile | undefined, keep = 20) {
  const lines: string[] = [];
  const decoder = new TextDecoder();
  const done = Promise.allSettled(streams.map(async (stream) => {
    for await (const chunk of stream) {
      if (file) await file.write(chunk);
      lines.push(...decoder.decode(chunk).split("\n").filter((line) => line.trim()));
      lines.splice(0, Math.max(0, lines.length - keep));
    }
  })).then(() => file?.close());
  return { lines, done };
}

export async function startGateway(env: Record<string, string>, options: GatewayOptions = {}) {
  const port = options.port ?? freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}tools/gateway.ts`, "--port", String(port)],
    env: { ...Deno.env.toObject(), ...env },
    stdout: options.logFile ? "piped" : "null",
    stderr: "piped",
  }).spawn();
  const file = options.logFile ? await Deno.open(options.logFile, { create: true, append: true }) : undefined;
  await file?.write(
    new TextEncoder().encode(`--- gateway on port ${port} started ${new Date().toISOString()}\n`),
  );
  const output = collect(options.logFile ? [child.stdout, child.stderr] : [child.stderr], file);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((value) => (exited = value));
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
    }
    await status;
    await output.done;
  };

  const url = `http://127.0.0.1:${port}/functions/v1`;
  const deadline = Date.now() + 30_000;
  let lastError = "no answer";
  while (true) {
    if (exited) {
      await output.done;
      throw new Error(
        `test gateway on port ${port} exited with status ${exited.code}: ${
          output.lines.join(" | ") || "(no output)"
        }`,
      );
    }
    try {
      const response = await fetch(`${url}/api/openapi.json`);
      await response.body?.cancel();
      if (response.ok) break;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `test gateway on port ${port} did not answer within 30 s (${lastError}): ${output.lines.join(" | ")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    port,
    stop,
    /** Resolves with the exit status if the process ends (e.g. it failed the isolate). */
    status: child.status,
  };
}
