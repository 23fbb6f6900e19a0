/**
 * Settings of the console function, validated once at start-up (shared `loadConfig`).
 *
 * Sign-in is one of two modes, decided here, never by the page:
 *   - production: CLERK_PUBLISHABLE_KEY (pk_live_… / pk_test_…). The page loads Clerk's browser SDK
 *     (@clerk/clerk-js) from the instance's Frontend API, whose host is encoded in the key
 *     (base64 of `<host>$`); the Content-Security-Policy allows that host and nothing else remote;
 *   - development and tests: CONSOLE_DEV_SIGN_IN_URL, the dev issuer's sign-in stand-in that the
 *     local gateway serves (tools/gateway.ts) and sets for the functions (tools/dev_env.ts).
 * One of them is required: a console without a way to sign in stops at start-up naming both.
 * With both, the publishable key wins (the dev stand-in never reaches a configured production).
 */
import { z } from "zod";
import { HttpSettings, httpsOrLoopbackUrl, loadConfig } from "../_shared/config.ts";

/** The Frontend API host a Clerk publishable key names, or null when it is not a publishable key. */
export function frontendApiHost(publishableKey: string): string | null {
  const match = /^pk_(live|test)_([A-Za-z0-9+/=_-]+)$/.exec(publishableKey);
  if (!match) return null;
  let decoded: string;
  try {
    decoded = atob(match[2].replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    return null;
  }
  if (!decoded.endsWith("$")) return null;
  const host = decoded.slice(0, -1);
  // A DNS host name (Clerk's `<name>.clerk.accounts.dev` or the app's own `clerk.<domain>`).
  return /^(?=.{4,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(host)
    ? host.toLowerCase()
    : null;
}

export const ConsoleSettings = {
  /** Clerk publishable key of the instance whose sessions the functions accept (production). */
  CLERK_PUBLISHABLE_KEY: z.string().trim().refine(
    (value) => frontendApiHost(value) !== null,
    "must be a Clerk publishable key (pk_live_… or pk_test_…) naming its Frontend API host",
  ).optional(),
  /** The dev issuer's sign-in stand-in (development and tests only; set by tools/dev_env.ts). */
  CONSOLE_DEV_SIGN_IN_URL: httpsOrLoopbackUrl.optional(),
};

export const ConsoleConfig = z.object({ ...HttpSettings, ...ConsoleSettings }).refine(
  (config) => config.CLERK_PUBLISHABLE_KEY !== undefined || config.CONSOLE_DEV_SIGN_IN_URL !== undefined,
  {
    message: "required: the console needs CLERK_PUBLISHABLE_KEY (or CONSOLE_DEV_SIGN_IN_URL in development)",
    path: ["CLERK_PUBLISHABLE_KEY"],
  },
);

export type ConsoleConfig = z.output<typeof ConsoleConfig>;

export type SignIn =
  | { mode: "clerk"; publishableKey: string; frontendApi: string }
  | { mode: "dev"; signInUrl: string };

/** The sign-in the page uses, as /console/config.json tells it. */
export function signInFrom(config: ConsoleConfig): SignIn {
  if (config.CLERK_PUBLISHABLE_KEY) {
    return {
      mode: "clerk",
      publishableKey: config.CLERK_PUBLISHABLE_KEY,
      frontendApi: `https://${frontendApiHost(config.CLERK_PUBLISHABLE_KEY)}`,
    };
  }
  return { mode: "dev", signInUrl: config.CONSOLE_DEV_SIGN_IN_URL! };
}

export function loadConsoleConfig(env?: Record<string, string>): ConsoleConfig {
  return loadConfig(ConsoleConfig, env);
}
