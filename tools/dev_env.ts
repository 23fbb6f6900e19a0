/**
 * Development environment for the functions: the values a real deployment sets with
 * `supabase secrets set`, filled here with local stand-ins (the database of tools/lib.sh, the dev
 * issuer, a generated webhook secret kept in .local/dev). Values already present in the
 * environment win.
 *
 * As a command, prints `export NAME=value` lines for a shell to eval (port: --port, else
 * GATEWAY_PORT):
 *   eval "$(bash tools/run.sh deno run -A tools/dev_env.ts --port "$TEST_GATEWAY_PORT")"
 */
import { DEV_APP_ORIGIN, DEV_DIR, DEV_SIGN_IN_PATH } from "./dev_issuer.ts";
import { commandLine, dbUrl, portOption } from "./settings.ts";

/** The webhook signing secret of the local stack, created once in .local/dev. */
export async function devWebhookSecret(): Promise<string> {
  const file = `${DEV_DIR}/webhook-secret.txt`;
  try {
    return (await Deno.readTextFile(file)).trim();
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.mkdir(DEV_DIR, { recursive: true, mode: 0o700 });
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
  const defaults: Record<string, () => string | Promise<string>> = {
    SUPABASE_DB_URL: dbUrl,
    CLERK_ISSUER: () => devIssuer(port),
    CLERK_AUTHORIZED_PARTIES: () => DEV_APP_ORIGIN,
    CORS_ORIGINS: () => DEV_APP_ORIGIN,
    CLERK_WEBHOOK_SIGNING_SECRET: devWebhookSecret,
    // The console's sign-in stand-in, served by the gateway beside the dev issuer.
    CONSOLE_DEV_SIGN_IN_URL: () => `http://127.0.0.1:${port}${DEV_SIGN_IN_PATH}`,
  };
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(defaults)) env[name] = Deno.env.get(name) || await value();
  return env;
}

if (import.meta.main) {
  const { values } = commandLine({ port: { type: "string" } });
  const env = await developmentEnvironment(portOption(values.port, "GATEWAY_PORT"));
  for (const [name, value] of Object.entries(env)) {
    console.log(`export ${name}='${value.replaceAll("'", "'\\''")}'`);
  }
}
