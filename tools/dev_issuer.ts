/**
 * The local stand-in for Clerk's token issuer: an RSA key kept in .local/dev (git-ignored), its
 * JWKS served by the gateway at `<issuer>/.well-known/jwks.json`, and Clerk-shaped session tokens
 * signed with it. Development and tests only; production verifies tokens from the Clerk instance.
 */
import { exportJWK, generateKeyPair, importJWK, SignJWT } from "jose";
import type { JWK } from "jose";

const ROOT = new URL("../", import.meta.url).pathname;
export const DEV_DIR = `${ROOT}.local/dev`;
const KEY_FILE = `${DEV_DIR}/issuer-key.json`;

/** The origin dev tokens carry in `azp` (a local web app). */
export const DEV_APP_ORIGIN = "http://localhost:3000";

interface StoredKey {
  kid: string;
  privateJwk: JWK;
  publicJwk: JWK;
}

async function createKey(): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", {
    extractable: true,
    modulusLength: 2048,
  });
  const kid = `ins_dev_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: "RS256", use: "sig" },
    publicJwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" },
  };
}

let cached: StoredKey | undefined;

/** The dev signing key, created on first use and kept across runs. */
export async function devKey(): Promise<StoredKey> {
  if (cached) return cached;
  try {
    cached = JSON.parse(await Deno.readTextFile(KEY_FILE)) as StoredKey;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.mkdir(DEV_DIR, { recursive: true, mode: 0o700 });
    const key = await createKey();
    try {
      // createNew: two processes starting at once keep one key (the first written), not two.
      await Deno.writeTextFile(KEY_FILE, JSON.stringify(key), { mode: 0o600, createNew: true });
      cached = key;
    } catch (writeError) {
      if (!(writeError instanceof Deno.errors.AlreadyExists)) throw writeError;
      cached = JSON.parse(await Deno.readTextFile(KEY_FILE)) as StoredKey;
    }
  }
  return cached;
}

/** The JWKS document, as Clerk publishes it. */
export async function devJwks(): Promise<{ keys: JWK[] }> {
  return { keys: [(await devKey()).publicJwk] };
}

export interface MintOptions {
  issuer: string;
  /** Seconds until expiry (Clerk session tokens live 60 s; dev tokens default to one hour). */
  expiresIn?: number;
  azp?: string | null;
  claims?: Record<string, unknown>;
  /** Sign with another key (tests: unknown kid). */
  key?: StoredKey;
  now?: number;
  /** `iat` when it is not `now` (tests: a token issued in the future, whose nbf is still `now - 5`). */
  issuedAt?: number;
}

/** A Clerk-shaped session token for `sub`. */
export async function mintSessionToken(sub: string | undefined, options: MintOptions): Promise<string> {
  const key = options.key ?? await devKey();
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    sid: `sess_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`,
    v: 2,
    ...(options.azp === null ? {} : { azp: options.azp ?? DEV_APP_ORIGIN }),
    ...options.claims,
  };
  const jwt = new SignJWT(payload)
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
    .setIssuer(options.issuer.replace(/\/+$/, ""))
    .setIssuedAt(options.issuedAt ?? now)
    .setNotBefore(now - 5)
    .setExpirationTime(now + (options.expiresIn ?? 3600));
  if (sub !== undefined) jwt.setSubject(sub);
  return jwt.sign(await importJWK(key.privateJwk, "RS256"));
}

/** A fresh key that the dev JWKS does not list (tests of unknown `kid`). */
export function foreignKey(): Promise<StoredKey> {
  return createKey();
}

/** Where the gateway serves the console's sign-in stand-in, below the dev issuer. */
export const DEV_SIGN_IN_PATH = "/clerk/dev/sign-in";

/** The seeded users (supabase/seed.sql) the stand-in offers to pick from; any Clerk id may be typed. */
export const DEV_SEEDED_USERS = [
  { user_id: "user_seedDemoSupport", label: "Demo Support (support)" },
  { user_id: "user_seedDemoAdmin", label: "Demo Admin (admin)" },
  { user_id: "user_seedDemoOwner", label: "Demo Owner (user)" },
];

/**
 * The console's sign-in stand-in (development and tests only): GET lists the seeded users, POST
 * {"user_id": "user_…"} answers a fresh Clerk-shaped session token that lives 60 s like Clerk's, so
 * the page fetches one per call exactly as it calls Clerk's `getToken()`.
 */
export async function devSignIn(request: Request, issuer: string): Promise<Response> {
  const headers = { "cache-control": "no-store" };
  if (request.method === "GET") return Response.json({ users: DEV_SEEDED_USERS }, { headers });
  if (request.method !== "POST") {
    return Response.json({ title: "Method Not Allowed", status: 405 }, { status: 405 });
  }
  let userId: unknown;
  try {
    userId = (await request.json())?.user_id;
  } catch {
    userId = undefined;
  }
  if (typeof userId !== "string" || !/^user_[A-Za-z0-9]{1,64}$/.test(userId)) {
    return Response.json({ title: "Bad Request", status: 400, detail: "user_id must be a Clerk user id" }, {
      status: 400,
      headers,
    });
  }
  const token = await mintSessionToken(userId, { issuer, expiresIn: 60 });
  return Response.json({ token, expires_in: 60 }, { headers });
}
