/**
 * POST /erasures/run: executes due erasures (the same database body as the run-due-erasures cron
 * job), then deletes the erased users at Clerk through its Backend API when CLERK_SECRET_KEY is set
 * (not for erasures Clerk itself reported with user.deleted). Callers:
 *   - the scheduler, with the shared secret in `x-privacy-runner-secret` (runs as automation); in
 *     production pg_cron + pg_net posts here every few minutes (docs/PRIVACY.md);
 *   - an admin with a Clerk session (the database checks the role; rate limited like any change).
 * Idempotent: a user Clerk no longer has (404) counts as deleted; failures are retried next run.
 */
import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import { documented } from "../../_shared/openapi.ts";
import type { MiddlewareHandler } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { unauthorized } from "../../_shared/errors.ts";
import { parseJsonBody, readBodyText } from "../../_shared/body.ts";
import { log } from "../../_shared/log.ts";
import { ErasureRunResult, RunErasuresBody } from "../schemas.ts";
import type { JsonObject } from "../../_shared/db.ts";
import type { ClerkBackend } from "../clerk_backend.ts";
import { type Caller, queryAs } from "../../_shared/caller.ts";
import { pendingClerkDeletions, recordClerkDeletion, runDueErasures } from "../repositories/erasures.ts";
import { rateLimit, userCaller } from "../rate_limit.ts";

export const RUNNER_ACTOR = "privacy-runner";
const RUNNER_HEADER = "x-privacy-runner-secret";
/** Clerk deletions fetched at once, and batches one run makes at most (the rest wait for the next run). */
const CLERK_BATCH = 50;
const CLERK_BATCHES = 4;

export interface ErasureRouteOptions {
  requireSession: MiddlewareHandler<SessionEnv>;
  runnerSecret?: string;
  clerk?: ClerkBackend;
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Constant-time comparison (of the digests, so the length of the secret does not leak either). */
async function sameSecret(given: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([digest(given), digest(expected)]);
  return timingSafeEqual(a, b);
}

/** The answer (schemas.ts: `ErasureRunResult`). */
export interface ErasureRun {
  erasures: JsonObject;
  clerk: { configured: boolean; deleted: number; failed: number; pending: number };
}

export function erasureRoutes(options: ErasureRouteOptions) {
  const changeLimit = rateLimit("change");

  return new Hono<SessionEnv>().post(
    "/run",
    documented({
      summary: "Run due erasures, then delete the erased users at Clerk (the scheduler's secret or an admin)",
      responses: {
        200: { description: "What ran: erasures and Clerk deletions", schema: ErasureRunResult },
        401: "No valid secret or session",
        403: "Not an admin",
      },
    }),
    async (c) => {
      let caller: Caller;
      const secret = c.req.header(RUNNER_HEADER);
      if (secret !== undefined) {
        if (!options.runnerSecret || !(await sameSecret(secret, options.runnerSecret))) {
          throw unauthorized("the runner secret is not valid");
        }
        c.set("actor", RUNNER_ACTOR);
        caller = { kind: "service", actor: RUNNER_ACTOR };
      } else {
        await options.requireSession(c, () => Promise.resolve());
        await changeLimit(c, () => Promise.resolve());
        caller = userCaller(c);
      }

      // An empty body means the defaults.
      const body = RunErasuresBody.parse(parseJsonBody(await readBodyText(c), { empty: {} }));

      const [{ result: erasures }] = await queryAs(caller, (tx) => runDueErasures(tx, body.max_requests));
      const pendingDeletions = () => queryAs(caller, (tx) => pendingClerkDeletions(tx, CLERK_BATCH));
      const clerk: ErasureRun["clerk"] = {
        configured: options.clerk !== undefined,
        deleted: 0,
        failed: 0,
        pending: 0,
      };
      if (!options.clerk) {
        clerk.pending = (await pendingDeletions()).length;
        return c.json({ erasures, clerk } satisfies ErasureRun);
      }
      // Never-tried deletions come first (the database orders them so); each one is tried at most
      // once per run, and a run makes at most CLERK_BATCH * CLERK_BATCHES calls.
      const attempted = new Set<string>();
      for (let batch = 0; batch < CLERK_BATCHES; batch++) {
        const pending = (await pendingDeletions()).filter((p) => !attempted.has(p.request_id));
        if (pending.length === 0) break;
        for (const { request_id, subject_user_id } of pending) {
          attempted.add(request_id);
          const outcome = await options.clerk.deleteUser(subject_user_id);
          await queryAs(caller, (tx) => recordClerkDeletion(tx, request_id, outcome.done, outcome.status));
          if (outcome.done) clerk.deleted++;
          else clerk.failed++;
          log.info("clerk user deletion", {
            request_id: c.get("requestId"),
            dsar_request_id: request_id,
            user_id: subject_user_id,
            clerk_status: outcome.status,
            done: outcome.done,
          });
        }
      }
      clerk.pending = (await pendingDeletions()).length;
      return c.json({ erasures, clerk } satisfies ErasureRun);
    },
  );
}
