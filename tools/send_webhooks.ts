/**
 * Posts Svix-signed sample Clerk events to the local clerk-webhooks function, the way Clerk would:
 * user.created, user.updated, session.created, session.ended, user.deleted for one random user,
 * then the user.created delivery again (a replay, answered as a duplicate).
 *
 *   npm run webhooks:send [-- --url <function url>] [-- --user <user_...>]
 *
 * Default URL: $FUNCTIONS_URL/clerk-webhooks (the gateway on GATEWAY_PORT, tools/lib.sh); the
 * secret is CLERK_WEBHOOK_SIGNING_SECRET or the development secret of tools/dev_env.ts. Signs with
 * the svix library's Webhook.sign. Also a small library for the tests and the benchmark.
 */
import { Webhook } from "svix";
import { devWebhookSecret } from "./dev_env.ts";
import { commandLine, fail, functionsUrl } from "./settings.ts";

/** The local clerk-webhooks function (FUNCTIONS_URL, exported by tools/lib.sh). */
export function defaultWebhookUrl(): string {
  return `${functionsUrl()}/clerk-webhooks`;
}

/** The signing secret the local functions use (CLERK_WEBHOOK_SIGNING_SECRET or the dev secret). */
export async function webhookSecret(): Promise<string> {
  const fromEnv = Deno.env.get("CLERK_WEBHOOK_SIGNING_SECRET")?.trim();
  if (fromEnv) return fromEnv;
  return await devWebhookSecret();
}

/** A Svix message id (msg_ + 27 alphanumerics, like Svix's KSUID-based ids). */
export function svixMessageId(): string {
  return `msg_${crypto.randomUUID().replaceAll("-", "").slice(0, 27)}`;
}

export interface Delivery {
  svixId: string;
  body: string;
  headers: Record<string, string>;
}

export interface SignOptions {
  svixId?: string;
  /** When Svix sent it (the svix-timestamp). Default: now. */
  sentAt?: Date;
}

/** Signs `event` as Svix would deliver it: the exact body string and the three svix-* headers. */
export function signDelivery(secret: string, event: unknown, options: SignOptions = {}): Delivery {
  const svixId = options.svixId ?? svixMessageId();
  const sentAt = options.sentAt ?? new Date();
  const body = typeof event === "string" ? event : JSON.stringify(event);
  const signature = new Webhook(secret).sign(svixId, sentAt, body);
  return {
    svixId,
    body,
    headers: {
      "content-type": "application/json",
      "svix-id": svixId,
      "svix-timestamp": String(Math.floor(sentAt.getTime() / 1000)),
      "svix-signature": signature,
    },
  };
}

/** The receiver's answer: the outcome on 2xx, a problem document (title, status, detail) otherwise. */
export interface WebhookAnswer {
  svix_id?: string;
  type?: string;
  outcome?: string;
  title?: string;
  status?: number;
  detail?: string;
  errors?: { path: string; message: string }[];
}

/** Posts a delivery; returns the status and the parsed JSON answer (empty if the body is not JSON). */
export async function postDelivery(url: string, delivery: Delivery, client?: Deno.HttpClient) {
  const response = await fetch(url, {
    method: "POST",
    headers: delivery.headers,
    body: delivery.body,
    client,
  });
  const text = await response.text();
  let json: WebhookAnswer = {};
  try {
    json = JSON.parse(text) ?? {};
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, json };
}

// ---------------------------------------------------------------------------------------------
// Clerk-shaped events (https://clerk.com/docs/webhooks/overview): timestamps are ms epochs.
// ---------------------------------------------------------------------------------------------

export interface UserEventOptions {
  /** Clerk's data.updated_at (ms). Default: now. */
  updatedAt?: number;
  createdAt?: number;
  email?: string;
  /** Put the primary address second in the list (the receiver must pick it by id). */
  primarySecond?: boolean;
  firstName?: string | null;
  lastName?: string | null;
  imageUrl?: string | null;
  lastSignInAt?: number | null;
}

function envelope(type: string, data: Record<string, unknown>, timestamp = Date.now()) {
  return {
    data,
    event_attributes: { http_request: { client_ip: "192.0.2.1", user_agent: "send_webhooks" } },
    instance_id: "ins_dev0000000000000000000000",
    object: "event",
    timestamp,
    type,
  };
}

export function userEvent(
  type: "user.created" | "user.updated",
  userId: string,
  options: UserEventOptions = {},
) {
  const updatedAt = options.updatedAt ?? Date.now();
  const createdAt = options.createdAt ?? updatedAt;
  const suffix = userId.slice(-8).toLowerCase();
  const primary = {
    id: `idn_primary${suffix}`,
    object: "email_address",
    email_address: options.email ?? `${suffix}@example.invalid`,
    verification: { status: "verified", strategy: "email_code" },
    linked_to: [],
  };
  const secondary = {
    id: `idn_second${suffix}`,
    object: "email_address",
    email_address: `other-${suffix}@example.invalid`,
    verification: { status: "verified", strategy: "email_code" },
    linked_to: [],
  };
  return envelope(type, {
    id: userId,
    object: "user",
    email_addresses: options.primarySecond ? [secondary, primary] : [primary, secondary],
    primary_email_address_id: primary.id,
    first_name: options.firstName === undefined ? "Sample" : options.firstName,
    last_name: options.lastName === undefined ? "User" : options.lastName,
    image_url: options.imageUrl === undefined ? "https://img.clerk.com/sample" : options.imageUrl,
    username: null,
    phone_numbers: [],
    primary_phone_number_id: null,
    external_accounts: [],
    public_metadata: {},
    private_metadata: {},
    unsafe_metadata: {},
    password_enabled: true,
    two_factor_enabled: false,
    created_at: createdAt,
    updated_at: updatedAt,
    last_sign_in_at: options.lastSignInAt ?? null,
  }, updatedAt);
}

export function userDeletedEvent(userId: string, timestamp = Date.now()) {
  return envelope("user.deleted", { id: userId, object: "user", deleted: true }, timestamp);
}

export function sessionEvent(
  type: "session.created" | "session.ended" | "session.removed" | "session.revoked",
  userId: string,
  options: { createdAt?: number; lastActiveAt?: number } = {},
) {
  const createdAt = options.createdAt ?? Date.now();
  const lastActiveAt = options.lastActiveAt ?? createdAt;
  return envelope(type, {
    id: `sess_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`,
    object: "session",
    user_id: userId,
    client_id: `client_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`,
    status: type === "session.created" ? "active" : type.slice("session.".length),
    created_at: createdAt,
    updated_at: lastActiveAt,
    last_active_at: lastActiveAt,
    expire_at: createdAt + 7 * 86_400_000,
    abandon_at: createdAt + 30 * 86_400_000,
  }, lastActiveAt);
}

/** A Clerk-shaped user id. */
export function sampleUserId(prefix = "wh"): string {
  return `user_${prefix}${crypto.randomUUID().replaceAll("-", "").slice(0, 20)}`;
}

if (import.meta.main) {
  const { values } = commandLine({ url: { type: "string" }, user: { type: "string" } });
  const url = values.url ?? defaultWebhookUrl();
  const userId = values.user ?? sampleUserId("sample");
  const secret = await webhookSecret();
  const now = Date.now();
  const created = signDelivery(secret, userEvent("user.created", userId, { updatedAt: now - 3_000 }));
  const steps: [string, Delivery][] = [
    ["user.created", created],
    [
      "user.updated",
      signDelivery(
        secret,
        userEvent("user.updated", userId, { updatedAt: now - 2_000, firstName: "Renamed" }),
      ),
    ],
    [
      "session.created",
      signDelivery(secret, sessionEvent("session.created", userId, { createdAt: now - 1_000 })),
    ],
    [
      "session.ended",
      signDelivery(
        secret,
        sessionEvent("session.ended", userId, { createdAt: now - 1_000, lastActiveAt: now }),
      ),
    ],
    ["user.created (replayed)", created],
    ["user.deleted", signDelivery(secret, userDeletedEvent(userId, now))],
  ];
  console.log(`posting to ${url} for ${userId}`);
  let failed = false;
  for (const [label, delivery] of steps) {
    try {
      const { status, json } = await postDelivery(url, delivery);
      console.log(
        `${label.padEnd(24)} ${delivery.svixId}  ${status}  ${json?.outcome ?? json?.detail ?? ""}`,
      );
      if (status >= 300) failed = true;
    } catch (error) {
      fail(`${label}: ${error instanceof Error ? error.message : error} (is \`npm run dev\` running?)`);
    }
  }
  if (failed) Deno.exit(1);
}
