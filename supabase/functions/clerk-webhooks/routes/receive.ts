/**
 * POST /clerk-webhooks: verify (401; requireSignature runs in front of every route), parse (400),
 * apply exactly once (2xx), or 503 when the database cannot be reached so Svix retries the same
 * delivery later.
 *
 * Logs the svix id, event type, Clerk user id and outcome; never the body, emails or names.
 */
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../../_shared/http.ts";
import { badRequest } from "../../_shared/errors.ts";
import { parseJsonBody } from "../../_shared/body.ts";
import { describeError, log } from "../../_shared/log.ts";
import { countWebhookOutcome } from "../../_shared/signals.ts";
import { parseClerkEvent, SVIX_ID } from "../events.ts";
import { SignatureRejected } from "../verify.ts";
import type { WebhookVerifier } from "../verify.ts";
import { documented } from "../../_shared/openapi.ts";
import { EventEnvelope } from "../events.ts";
import { Receipt } from "../schemas.ts";
import type { z } from "zod";
import { ACTOR, applyClerkEvent, recordRejection } from "../repositories/events.ts";
import type { Rejection } from "../repositories/events.ts";

export type WebhookEnv = AppEnv & {
  Variables: AppEnv["Variables"] & { svixId: string; rawBody: string };
};

/**
 * Counts a refused signed delivery (a payload Clerk signed that we cannot read) in the database; when that fails too (the database is away), in
 * memory, flushed later (_shared/signals.ts). Never changes the answer the caller gets.
 */
async function countRejection(rejection: Rejection, requestId: string): Promise<void> {
  try {
    await recordRejection(rejection, requestId);
  } catch (error) {
    countWebhookOutcome(rejection);
    log.warn("clerk webhook rejection not recorded", { request_id: requestId, ...describeError(error) });
  }
}

/**
 * Middleware: a valid Svix signature over the exact bytes sent, or 401. Mounted in front of every
 * route of the function (index.ts), so no route can run on an unsigned request.
 */
export function requireSignature(verify: WebhookVerifier): MiddlewareHandler<WebhookEnv> {
  return async (c, next) => {
    c.set("actor", ACTOR);
    // The signature covers the exact bytes sent, so verify the raw text before parsing anything.
    const rawBody = await c.req.text();
    let svixId: string;
    try {
      ({ svixId } = verify(rawBody, c.req.raw.headers));
    } catch (error) {
      if (error instanceof SignatureRejected) {
        const header = c.req.header("svix-id") ?? "";
        log.warn("clerk webhook rejected", {
          request_id: c.get("requestId"),
          svix_id: SVIX_ID.test(header) ? header : undefined,
          reason: error.reason,
        });
        // In memory only (flushed by _shared/signals.ts): an unsigned request may come from
        // anyone, so it must not cost a database write or wait on the database for its 401.
        countWebhookOutcome("rejected_signature");
      }
      throw error;
    }
    if (!SVIX_ID.test(svixId)) {
      await countRejection("rejected_payload", c.get("requestId"));
      throw badRequest("the svix-id header is not a message id");
    }
    c.set("svixId", svixId);
    c.set("rawBody", rawBody);
    await next();
  };
}

export function receiveRoutes() {
  return new Hono<WebhookEnv>().post(
    "/",
    documented({
      summary: "Receive one Svix-signed Clerk event (user.*, session.*; other types are recorded as ignored)",
      headers: [{ name: "svix-id", required: true }, { name: "svix-timestamp", required: true }],
      body: {
        description: "A Clerk event envelope, as Svix delivers it; the signature covers these exact bytes",
        schema: EventEnvelope,
      },
      responses: {
        200: {
          description: "Applied exactly once, or recognised as applied before (`duplicate`)",
          schema: Receipt,
        },
        400: "A handled event type with a malformed payload, not a JSON envelope, or a malformed svix-id",
        413: "The body exceeds MAX_BODY_BYTES",
        415: "The body is not application/json",
      },
    }),
    async (c) => {
      const svixId = c.get("svixId");
      let event;
      try {
        // Signed by Clerk, yet parsed with the same checks as any body (syntax, depth, storable text).
        event = parseClerkEvent(svixId, parseJsonBody(c.get("rawBody")));
      } catch (error) {
        log.warn("clerk webhook malformed", { request_id: c.get("requestId"), svix_id: svixId });
        await countRejection("rejected_payload", c.get("requestId"));
        throw error;
      }

      let outcome;
      try {
        outcome = await applyClerkEvent(event, c.get("requestId"));
      } catch (error) {
        // Nothing committed (the count is part of the statement): counted in memory, Svix retries.
        countWebhookOutcome("failed");
        throw error;
      }
      log.info("clerk webhook", {
        request_id: c.get("requestId"),
        svix_id: svixId,
        event_type: event.type,
        user_id: event.userId,
        outcome,
        // Kinds only (primary_email_missing, ...), never the values.
        warnings: event.warnings.length > 0 ? event.warnings.join(",") : undefined,
      });
      const receipt: z.output<typeof Receipt> = { svix_id: svixId, type: event.type, outcome };
      return c.json(receipt);
    },
  );
}
