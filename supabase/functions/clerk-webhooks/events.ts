/**
 * Clerk webhook payloads, parsed with zod into the few fields this backend stores.
 *
 * Envelope: `{ data, object: "event", type, timestamp, instance_id }` (plus `event_attributes`,
 * which carries the client IP and user agent and is never read). Timestamps in Clerk payloads are
 * milliseconds since the epoch. Only the handled types have their `data` validated; any other type
 * is recorded as ignored, whatever its data.
 */
import { z } from "zod";
import { CLERK_USER_ID } from "../_shared/auth.ts";

/** Milliseconds since the epoch, within what a Date (and Postgres timestamptz) can hold. */
const epochMs = z.number().int().min(0).max(8_640_000_000_000_000);
const toDate = (ms: number) => new Date(ms);

/** Same shape as the users.email check constraint. */
const EMAIL = /^[^@\s]+@[^@\s]+$/;
const HTTPS_URL = /^https:\/\//;

export const SVIX_ID = /^[A-Za-z0-9_.:-]{1,256}$/;
export const EVENT_TYPE = /^[A-Za-z0-9_.-]{1,100}$/;

export const EventEnvelope = z.object({
  object: z.literal("event"),
  type: z.string().regex(EVENT_TYPE, "not a Clerk event type"),
  data: z.record(z.string(), z.unknown()),
  timestamp: epochMs.optional(),
  instance_id: z.string().max(200).optional(),
});

/**
 * Optional Clerk name: null, absent and "" all mean "not set". Longer than the column allows (200
 * characters) is cut rather than refused: Clerk owns the value and a 400 would only make Svix retry.
 */
const optionalName = z
  .string()
  .max(10_000)
  .nullish()
  .transform((value) => value ? Array.from(value).slice(0, 200).join("") : null);

const UserData = z
  .object({
    id: z.string().regex(CLERK_USER_ID, "not a Clerk user id"),
    email_addresses: z
      .array(z.object({ id: z.string().min(1).max(200), email_address: z.string() }))
      .max(100)
      .default([]),
    primary_email_address_id: z.string().max(200).nullish(),
    first_name: optionalName,
    last_name: optionalName,
    // Not essential and owned by Clerk: anything the users.image_url constraint would refuse
    // (http:// in development instances, over-long URLs) is dropped rather than failing the event.
    image_url: z
      .string()
      .nullish()
      .transform((value) => value && value.length <= 2048 && HTTPS_URL.test(value) ? value : null),
    created_at: epochMs,
    updated_at: epochMs,
    last_sign_in_at: epochMs.nullish(),
    last_active_at: epochMs.nullish(),
  })
  .transform((user, ctx) => {
    // The primary address is the one whose id Clerk names, not the first in the list.
    let email: string | null = null;
    if (user.primary_email_address_id) {
      const primary = user.email_addresses.find((address) => address.id === user.primary_email_address_id);
      if (!primary) {
        ctx.addIssue({
          code: "custom",
          path: ["primary_email_address_id"],
          message: "names no address in email_addresses",
        });
        return z.NEVER;
      }
      if (primary.email_address.length > 320 || !EMAIL.test(primary.email_address)) {
        ctx.addIssue({
          code: "custom",
          path: ["email_addresses"],
          message: "the primary address is not an email",
        });
        return z.NEVER;
      }
      email = primary.email_address;
    }
    return {
      userId: user.id,
      email,
      firstName: user.first_name,
      lastName: user.last_name,
      imageUrl: user.image_url,
      clerkCreatedAt: toDate(user.created_at),
      clerkUpdatedAt: toDate(user.updated_at),
      lastSignInAt: user.last_sign_in_at == null ? null : toDate(user.last_sign_in_at),
      lastActiveAt: user.last_active_at == null ? null : toDate(user.last_active_at),
    };
  });

const DeletedUserData = z.object({
  id: z.string().regex(CLERK_USER_ID, "not a Clerk user id"),
  deleted: z.literal(true).optional(),
  object: z.literal("user").optional(),
});

const SessionData = z.object({
  id: z.string().min(1).max(200),
  user_id: z.string().regex(CLERK_USER_ID, "not a Clerk user id"),
  created_at: epochMs,
  last_active_at: epochMs.nullish(),
});

/** Schemas of `data` per type, wrapped so that issue paths start at the envelope root (data.id, ...). */
const withData = <T extends z.ZodType>(schema: T) => z.object({ data: schema });
const UserEvent = withData(UserData);
const DeletedUserEvent = withData(DeletedUserData);
const SessionEvent = withData(SessionData);

export type UserProfile = z.output<typeof UserData>;

/** What one delivery asks of the database, already validated. */
export type ClerkEvent =
  & { svixId: string; type: string; eventAt: Date | null }
  & (
    | { kind: "user.upsert"; userId: string; profile: UserProfile }
    | { kind: "user.deleted"; userId: string }
    | { kind: "session"; userId: string; lastSignInAt: Date | null; lastActiveAt: Date | null }
    | { kind: "ignored"; userId: null }
  );

/**
 * Parses a verified body. Throws a ZodError (mapped to 400 with field details) when the envelope
 * or, for a handled type, the data is malformed.
 */
export function parseClerkEvent(svixId: string, body: unknown): ClerkEvent {
  const envelope = EventEnvelope.parse(body);
  const base = {
    svixId,
    type: envelope.type,
    eventAt: envelope.timestamp === undefined ? null : toDate(envelope.timestamp),
  };
  switch (envelope.type) {
    case "user.created":
    case "user.updated": {
      const profile = UserEvent.parse(envelope).data;
      return { ...base, kind: "user.upsert", userId: profile.userId, profile };
    }
    case "user.deleted": {
      const user = DeletedUserEvent.parse(envelope).data;
      return { ...base, kind: "user.deleted", userId: user.id };
    }
    case "session.created": {
      const session = SessionEvent.parse(envelope).data;
      return {
        ...base,
        kind: "session",
        userId: session.user_id,
        lastSignInAt: toDate(session.created_at),
        lastActiveAt: toDate(session.last_active_at ?? session.created_at),
      };
    }
    case "session.ended":
    case "session.removed":
    case "session.revoked": {
      const session = SessionEvent.parse(envelope).data;
      return {
        ...base,
        kind: "session",
        userId: session.user_id,
        lastSignInAt: null,
        lastActiveAt: session.last_active_at == null ? null : toDate(session.last_active_at),
      };
    }
    default:
      return { ...base, kind: "ignored", userId: null };
  }
}
