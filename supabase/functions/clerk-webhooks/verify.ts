/**
 * Svix signature verification of the raw request body, with the `svix` library (never by hand):
 * HMAC-SHA256 over `<svix-id>.<svix-timestamp>.<body>`, any one of the space-separated `v1,...`
 * signatures may match (Clerk signs with old and new secret while one is being rotated), and the
 * timestamp must lie within five minutes of now (the library's tolerance), so a captured delivery
 * cannot be replayed later with a fresh id.
 */
import { Webhook } from "svix";
import { HttpError } from "../_shared/errors.ts";

export interface VerifiedDelivery {
  /** The svix-id header: stable across retries and replays of one message. */
  svixId: string;
}

export type RejectionReason = "missing_headers" | "bad_signature";

/** 401 without any hint of what exactly failed (that goes to the log, not to the caller). */
export class SignatureRejected extends HttpError {
  constructor(readonly reason: RejectionReason) {
    super(401, "Unauthorized", "the webhook signature is not valid");
  }
}

export function createWebhookVerifier(secret: string) {
  const webhook = new Webhook(secret);

  return function verify(rawBody: string, headers: Headers): VerifiedDelivery {
    const svixId = headers.get("svix-id");
    const svixTimestamp = headers.get("svix-timestamp");
    const svixSignature = headers.get("svix-signature");
    if (!svixId || !svixTimestamp || !svixSignature) throw new SignatureRejected("missing_headers");
    try {
      webhook.verify(rawBody, {
        "svix-id": svixId,
        "svix-timestamp": svixTimestamp,
        "svix-signature": svixSignature,
      });
    } catch {
      // WebhookVerificationError (no match, stale or future timestamp) or malformed input: all 401.
      throw new SignatureRejected("bad_signature");
    }
    return { svixId };
  };
}

export type WebhookVerifier = ReturnType<typeof createWebhookVerifier>;
