/** Raw HTTP helpers over the gateway (the way any client reaches the functions). */
import { FUNCTIONS_URL } from "./env.ts";

export interface CallOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Serialized as JSON unless it is already a string or raw bytes. */
  body?: unknown;
}

export async function call(fn: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | Uint8Array<ArrayBuffer> | undefined;
  if (options.body !== undefined) {
    body = typeof options.body === "string" || options.body instanceof Uint8Array
      ? options.body as string | Uint8Array<ArrayBuffer>
      : JSON.stringify(options.body);
    headers["content-type"] ??= "application/json";
  }
  const response = await fetch(`${FUNCTIONS_URL}/${fn}${path}`, {
    method: options.method ?? "GET",
    headers,
    body,
  });
  const text = await response.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  // deno-lint-ignore no-explicit-any
  return { status: response.status, headers: response.headers, json: json as any, text };
}
