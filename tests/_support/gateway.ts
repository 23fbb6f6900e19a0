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

/** Reads a child's output in the background, keeping the last lines (for error messages). */
function tail(stream: ReadableStream<Uint8Array>, keep = 20) {
  const lines: string[] = [];
  const done = (async () => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      lines.push(...chunk.split("\n").filter((line) => line.trim()));
      lines.splice(0, Math.max(0, lines.length - keep));
    }
  })().catch(() => {});
  return { lines, done };
}

export async function startGateway(env: Record<string, string>) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}tools/gateway.ts`, "--port", String(port)],
    env: { ...Deno.env.toObject(), ...env },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const output = tail(child.stderr);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((value) => (exited = value));
  const stop = async () => {
    if (!exited) child.kill("SIGTERM");
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
  return { url, stop };
}
