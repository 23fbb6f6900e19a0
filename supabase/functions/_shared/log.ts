/**
 * Structured logging: one JSON object per line on stdout, which Supabase's log explorer indexes.
 * Log ids, counts, statuses and durations; never emails, names, tokens or request bodies.
 */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

function write(level: "info" | "warn" | "error", message: string, fields: LogFields): void {
  const line = JSON.stringify({ level, time: new Date().toISOString(), msg: message, ...fields });
  if (level === "error") console.error(line);
  else console.log(line);
}

export const log = {
  info: (message: string, fields: LogFields = {}) => write("info", message, fields),
  warn: (message: string, fields: LogFields = {}) => write("warn", message, fields),
  error: (message: string, fields: LogFields = {}) => write("error", message, fields),
};

/** A short description of an error for logs: its class, code and message, no stack. */
export function describeError(error: unknown): LogFields {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      error: error.name,
      error_code: typeof code === "string" ? code : undefined,
      cause: error.message,
    };
  }
  return { error: String(error) };
}
