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

/**
 * Parts of a payload Clerk considers valid that this backend cannot store as sent. The event is
 * still applied (never a 400: Svix would retry a valid payload for days), the part is stored as
 * "not set", and the delivery counts one warning per kind in ops.clerk_sync_warnings.
 */
export type SyncWarning =
  | "primary_email_missing"
  | "primary_email_invalid"
  | "primary_phone_missing"
  | "phone_number_invalid"
  | "username_invalid"
  | "external_id_invalid"
  | "image_url_refused";

/** E.164, as Clerk stores phone numbers; the users.phone_number check has the same shape. */
const E164 = /^\+[1-9][0-9]{1,14}$/;
/** Ids Clerk puts in `actor.sub` (impersonator): pseudonymous ids only, never free text. */
const ACTOR_ID = /^[A-Za-z0-9_.:-]{1,128}$/;
/** Clerk caps lockouts by its instance settings; ten years is far beyond any of them. */
const MAX_LOCKOUT_SECONDS = 10 * 365 * 24 * 3600;

const Verification = z.object({ status: z.string().max(100).nullish() }).nullish();

const UserData = z
  .object({
    id: z.string().regex(CLERK_USER_ID, "not a Clerk user id"),
    email_addresses: z
      .array(
        z.object({ id: z.string().min(1).max(200), email_address: z.string(), verification: Verification }),
      )
      .max(100)
      .nullish(),
    primary_email_address_id: z.string().max(200).nullish(),
    phone_numbers: z
      .array(z.object({ id: z.string().min(1).max(200), phone_number: z.string() }))
      .max(100)
      .nullish(),
    primary_phone_number_id: z.string().max(200).nullish(),
    username: z.string().max(10_000).nullish(),
    external_id: z.string().max(10_000).nullish(),
    first_name: optionalName,
    last_name: optionalName,
    image_url: z.string().max(100_000).nullish(),
    has_image: z.boolean().nullish(),
    banned: z.boolean().nullish(),
    locked: z.boolean().nullish(),
    lockout_expires_in_seconds: z.number().int().min(0).max(MAX_LOCKOUT_SECONDS).nullish(),
    created_at: epochMs,
    updated_at: epochMs,
    last_sign_in_at: epochMs.nullish(),
    last_active_at: epochMs.nullish(),
  })
  .transform((user) => {
    const warnings = new Set<SyncWarning>();

    // The primary address is the one whose id Clerk names, not the first in the list. Clerk's own
    // OpenAPI examples name an id with `email_addresses: []`: "no email" and a warning.
    let email: string | null = null;
    let emailVerified: boolean | null = null;
    if (user.primary_email_address_id) {
      const primary = (user.email_addresses ?? []).find((a) => a.id === user.primary_email_address_id);
      if (!primary) warnings.add("primary_email_missing");
      else if (primary.email_address.length > 320 || !EMAIL.test(primary.email_address)) {
        warnings.add("primary_email_invalid");
      } else {
        email = primary.email_address;
        emailVerified = primary.verification?.status === "verified";
      }
    }

    let phoneNumber: string | null = null;
    if (user.primary_phone_number_id) {
      const primary = (user.phone_numbers ?? []).find((p) => p.id === user.primary_phone_number_id);
      if (!primary) warnings.add("primary_phone_missing");
      else if (!E164.test(primary.phone_number)) warnings.add("phone_number_invalid");
      else phoneNumber = primary.phone_number;
    }

    // Identifiers are never cut (a cut username names someone else): too long is "not set".
    const username = user.username || null;
    if (username && Array.from(username).length > 256) warnings.add("username_invalid");
    const externalId = user.external_id || null;
    if (externalId && Array.from(externalId).length > 512) warnings.add("external_id_invalid");

    // has_image false: image_url is Clerk's generated default avatar, not the user's picture.
    // Anything the users.image_url check would refuse (http:// in development instances,
    // over-long URLs) is dropped too.
    let imageUrl: string | null = null;
    if (user.image_url && user.has_image !== false) {
      if (user.image_url.length <= 2048 && HTTPS_URL.test(user.image_url)) imageUrl = user.image_url;
      else warnings.add("image_url_refused");
    }

    const locked = user.locked ?? false;
    return {
      userId: user.id,
      email,
      emailVerified,
      phoneNumber,
      username: warnings.has("username_invalid") ? null : username,
      externalId: warnings.has("external_id_invalid") ? null : externalId,
      firstName: user.first_name,
      lastName: user.last_name,
      imageUrl,
      hasImage: user.has_image ?? null,
      banned: user.banned ?? false,
      locked,
      /** Seconds left of the lockout when Clerk sent the payload; null: until Clerk unlocks. */
      lockoutSeconds: locked ? user.lockout_expires_in_seconds ?? null : null,
      clerkCreatedAt: toDate(user.created_at),
      clerkUpdatedAt: toDate(user.updated_at),
      lastSignInAt: user.last_sign_in_at == null ? null : toDate(user.last_sign_in_at),
      lastActiveAt: user.last_active_at == null ? null : toDate(user.last_active_at),
      warnings: [...warnings],
    };
  });

/** user.deleted: Clerk's DeletedObject; external_id is validated but not kept (the user is erased). */
const DeletedUserData = z.object({
  id: z.string().regex(CLERK_USER_ID, "not a Clerk user id"),
  deleted: z.literal(true).optional(),
  object: z.literal("user").optional(),
  external_id: z.string().max(10_000).nullish(),
});

const SessionData = z.object({
  id: z.string().min(1).max(200),
  user_id: z.string().regex(CLERK_USER_ID, "not a Clerk user id"),
  created_at: epochMs,
  last_active_at: epochMs.nullish(),
  // Set when the session was started by impersonation (an actor token): `{ sub: <impersonator> }`.
  actor: z.record(z.string(), z.unknown()).nullish(),
});

/** Schemas of `data` per type, wrapped so that issue paths start at the envelope root (data.id, ...). */
const withData = <T extends z.ZodType>(schema: T) => z.object({ data: schema });
const UserEvent = withData(UserData);
const DeletedUserEvent = withData(DeletedUserData);
const SessionEvent = withData(SessionData);

export type UserProfile = z.output<typeof UserData>;

/** A session event's effect. Impersonated: started by someone else (Clerk actor), never the user's activity. */
export interface SessionActivity {
  sessionId: string;
  startedAt: Date | null;
  lastActiveAt: Date | null;
  impersonated: boolean;
  actorId: string | null;
}

/** What one delivery asks of the database, already validated. */
export type ClerkEvent =
  & { svixId: string; type: string; eventAt: Date | null; warnings: SyncWarning[] }
  & (
    | { kind: "user.upsert"; userId: string; profile: UserProfile; lockedUntil: Date | null }
    | { kind: "user.deleted"; userId: string }
    | { kind: "session"; userId: string; session: SessionActivity }
    | { kind: "ignored"; userId: null }
  );

function sessionActivity(data: z.output<typeof SessionData>, started: boolean): SessionActivity {
  const actorSub = data.actor?.sub;
  return {
    sessionId: data.id,
    startedAt: started ? toDate(data.created_at) : null,
    lastActiveAt: data.last_active_at == null
      ? (started ? toDate(data.created_at) : null)
      : toDate(data.last_active_at),
    impersonated: data.actor != null,
    actorId: typeof actorSub === "string" && ACTOR_ID.test(actorSub) ? actorSub : null,
  };
}

/**
 * Parses a verified body. Throws a ZodError (mapped to 400 with field details) when the envelope
 * or, for a handled type, the data is malformed. A payload Clerk considers valid is never refused:
 * parts that cannot be stored are dropped with a warning (SyncWarning).
 */
export function parseClerkEvent(svixId: string, body: unknown): ClerkEvent {
  const envelope = EventEnvelope.parse(body);
  const eventAt = envelope.timestamp === undefined ? null : toDate(envelope.timestamp);
  const base = { svixId, type: envelope.type, eventAt, warnings: [] as SyncWarning[] };
  switch (envelope.type) {
    case "user.created":
    case "user.updated": {
      const profile = UserEvent.parse(envelope).data;
      // Clerk counts the lockout from when it sent the payload (the envelope time, else updated_at).
      const lockedUntil = profile.lockoutSeconds === null
        ? null
        : new Date((eventAt ?? profile.clerkUpdatedAt).getTime() + profile.lockoutSeconds * 1000);
      return {
        ...base,
        warnings: profile.warnings,
        kind: "user.upsert",
        userId: profile.userId,
        profile,
        lockedUntil,
      };
    }
    case "user.deleted": {
      const user = DeletedUserEvent.parse(envelope).data;
      return { ...base, kind: "user.deleted", userId: user.id };
    }
    case "session.created":
    case "session.ended":
    case "session.removed":
    case "session.revoked": {
      const session = SessionEvent.parse(envelope).data;
      return {
        ...base,
        kind: "session",
        userId: session.user_id,
        session: sessionActivity(session, envelope.type === "session.created"),
      };
    }
    default:
      return { ...base, kind: "ignored", userId: null };
  }
}
