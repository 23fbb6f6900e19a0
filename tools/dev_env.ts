/**
 * Development environment for the functions: the values a real deployment sets with
 * `supabase secrets set`, filled here with local stand-ins (the dev issuer, a generated webhook
 * secret kept in .local/dev). Values already present in the environment win.
 *
 * As a command, prints `export NAME=value` lines for a shell to eval:
 *   eval "$(deno run -A tools/dev_env.ts --port 54321)"
 */
import { DEV_APP_ORIGIN, DEV_DIR } from "./dev_issuer.ts";

export const LOCAL_DB_URL = "postgresql://postgres:postgres@127.0.0.1:54322/postgres";

async function devWebhookSecret(): Promise<string> {
  const file = `${DEV_DIR}/webhook-secret.txt`;
  try {
    return (await Deno.readTextFile(file)).trim();
  } catch {
    await Deno.mkdir(DEV_DIR, { recursive: true });
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    const secret = `whsec_${btoa(String.fromCharCode(...bytes))}`;
    await Deno.writeTextFile(file, secret, { mode: 0o600 });
    return secret;
  }
}

export function devIssuer(port: number): string {
  return `http://127.0.0.1:${port}/clerk`;
}

/** The environment the functions get in development, given the gateway's port. */
export async function developmentEnvironment(port: number): Promise<Record<string, string>> {
  const defaults: Record<string, string> = {
    SUPABASE_DB_URL: LOCAL_DB_URL,
    CLERK_ISSUER: devIssuer(port),
    CLERK_AUTHORIZED_PARTIES: DEV_APP_ORIGIN,
    CORS_ORIGINS: DEV_APP_ORIGIN,
    CLERK_WEBHOOK_SIGNING_SECRET: await devWebhookSecret(),
  };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(defaults)) env[name] = Deno.env.get(name) || value;
  return env;
}

if (import.meta.main) {
  const portIndex = Deno.args.indexOf("--port");
  const port = portIndex >= 0 ? Number(Deno.args[portIndex + 1]) : 54321;
  const env = await developmentEnvironment(port);
  for (const [name, value] of Object.entries(env)) {
    console.log(`export ${name}='${value.replaceAll("'", "'\\''")}'`);
  }
}
