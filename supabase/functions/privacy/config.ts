/**
 * Settings of the privacy function, validated once at start-up with zod (shared `loadConfig`: a
 * malformed value stops the isolate naming the variable, never its value). Everything specific to
 * this function is optional: without CLERK_SECRET_KEY erasures still run, and the Clerk users of
 * completed erasures stay listed as pending until a run with the key deletes them; without
 * PRIVACY_RUNNER_SECRET only admins (with a session) can trigger POST /privacy/erasures/run.
 */
import { z } from "zod";
import {
  ClerkSessionSettings,
  DatabaseSettings,
  HttpSettings,
  httpsOrLoopbackUrl,
  loadConfig,
} from "../_shared/config.ts";

export const PrivacySettings = {
  /** Clerk Backend API secret key (sk_live_... / sk_test_...): deletes erased users at Clerk. */
  CLERK_SECRET_KEY: z.string().trim().regex(
    /^sk_(live|test)_\S{8,}$/,
    "must be a Clerk secret key (sk_live_... or sk_test_...)",
  )
    .optional(),
  /** Clerk Backend API base URL (plain http only on loopback: the local stand-in the tests start). */
  CLERK_API_URL: httpsOrLoopbackUrl.default("https://api.clerk.com"),
  /**
   * Shared secret of the scheduled caller of POST /privacy/erasures/run (pg_cron + pg_net sends it
   * in x-privacy-runner-secret). At least 32 characters.
   */
  PRIVACY_RUNNER_SECRET: z.string().trim().min(32, "must be at least 32 characters").optional(),
};

export const PrivacyConfig = z.object({
  ...DatabaseSettings,
  ...ClerkSessionSettings,
  ...HttpSettings,
  ...PrivacySettings,
});

export type PrivacyConfig = z.output<typeof PrivacyConfig>;

/** Reads and validates the environment (or `env`, for tests). */
export function loadPrivacyConfig(env?: Record<string, string>): PrivacyConfig {
  return loadConfig(PrivacyConfig, env);
}
