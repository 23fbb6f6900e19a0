/**
 * Session-token checks of _shared/auth.ts beyond the signature:
 * - a token issued in the future (beyond the clock tolerance) is refused, as Clerk's SDK does
 *   (@clerk/backend assertIssuedAtClaim: iat > now + skew is "TokenNotActiveYet");
 * - when Clerk's key set cannot be fetched (a JWKS endpoint that times out, answers 500, answers
 *   non-JSON, or refuses the connection) the answer is 503 with Retry-After, never 401 (client
 *   apps sign their users out on a 401) and never 500; a key set fetched before keeps verifying
 *   tokens signed with its keys during the outage, while a token naming an unknown key is a 503
 *   (it may be a rotated key we cannot fetch) and, with the endpoint up, a 401.
 * The JWKS endpoints are small Deno.serve servers on 127.0.0.1 ephemeral ports; the verifier is
 * used directly in a Hono app with the shared error mapping.
 */
import { assert, assertEquals } from "@std/assert";
import { Hono } from "hono";
import { importJWK, SignJWT } from "jose";
import { createSessionVerifier } from "../supabase/functions/_shared/auth.ts";
import type { SessionEnv } from "../supabase/functions/_shared/auth.ts";
import { onError } from "../supabase/functions/_shared/http.ts";
import type { AppEnv } from "../supabase/functions/_shared/http.ts";
import { devJwks, devKey, foreignKey } from "../tools/dev_issuer.ts";
import { call } from "./_support/http.ts";
import { createUser } from "./_support/db.ts";
import { tokenIssuedInTheFuture } from "./_support/auth.ts";

const ISSUER = "https://clerk.test.invalid";

type JwksMode = "ok" | "hang" | "500" | "garbage";

/** A JWKS endpoint whose behaviour the test switches; `hang` answers only at shutdown. */
function startJwksServer(initial: JwksMode) {
  let mode = initial;
  const hanging: (() => void)[] = [];
  let hits = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async () => {
    hits++;
    if (mode === "hang") {
      await new Promise<void>((resolve) => hanging.push(resolve));
      return new Response("gone", { status: 503 });
    }
    if (mode === "500") return new Response("internal error", { status: 500 });
    if (mode === "garbage") return new Response("<html>maintenance</html>", { status: 200 });
    return Response.json(await devJwks());
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/.well-known/jwks.json`,
    set(next: JwksMode) {
      mode = next;
    },
    get hits() {
      return hits;
    },
    async stop() {
      for (const release of hanging) release();
      await server.shutdown();
    },
  };
}

type JwksServer = ReturnType<typeof startJwksServer>;

/** Runs `body` with a JWKS endpoint starting in `mode`, stopped afterwards whatever happens. */
async function withJwksServer(mode: JwksMode, body: (jwks: JwksServer) => Promise<void>): Promise<void> {
  const jwks = startJwksServer(mode);
  try {
    await body(jwks);
  } finally {
    await jwks.stop();
  }
}

/** A port nothing listens on: fetch fails with a TypeError (connection refused). */
function closedPortUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}/.well-known/jwks.json`;
}

function appWith(jwksUrl: string, tuning: { jwksCacheMaxAgeMs?: number } = {}) {
  const { requireSession } = createSessionVerifier({
    issuer: ISSUER,
    jwksUrl,
    authorizedParties: [],
    jwksTimeoutMs: 300,
    ...tuning,
  });
  // The production shape: protected routes on a sub-app that starts with requireSession.
  const signedIn = new Hono<SessionEnv>();
  signedIn.use("*", requireSession);
  signedIn.get("/whoami", (c) => c.json({ sub: c.get("claims").sub }));
  const app = new Hono<AppEnv>();
  app.onError(onError("auth-test"));
  app.route("/", signedIn);
  return app;
}

interface TokenOptions {
  iat?: number;
  nbf?: number;
  exp?: number;
  foreign?: boolean;
}

async function token(sub = "user_authtest1", options: TokenOptions = {}): Promise<string> {
  const key = options.foreign ? await foreignKey() : await devKey();
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({ sid: `sess_${crypto.randomUUID().slice(0, 8)}`, nonce: crypto.randomUUID() })
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
    .setIssuer(ISSUER)
    .setSubject(sub)
    .setIssuedAt(options.iat ?? now)
    .setNotBefore(options.nbf ?? now - 5)
    .setExpirationTime(options.exp ?? now + 60)
    .sign(await importJWK(key.privateJwk, "RS256"));
}

async function ask(app: Hono<AppEnv>, jwt: string) {
  const response = await app.request("/whoami", { headers: { authorization: `Bearer ${jwt}` } });
  return { status: response.status, headers: response.headers, body: await response.json() };
}

function assertUnavailable(result: Awaited<ReturnType<typeof ask>>, what: string) {
  assertEquals(result.status, 503, `${what}: ${JSON.stringify(result.body)}`);
  assert(Number(result.headers.get("retry-after")) > 0, `${what}: Retry-After`);
  assertEquals(result.headers.get("content-type"), "application/problem+json");
}

// jose's AbortSignal.timeout timers and the hanging JWKS responses outlive a single request.
const lenient = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "a JWKS endpoint that times out: 503 with Retry-After, not 401",
  ...lenient,
  fn: () =>
    withJwksServer("hang", async (jwks) => {
      const app = appWith(jwks.url);
      const started = performance.now();
      assertUnavailable(await ask(app, await token()), "timeout");
      assert(performance.now() - started < 5_000, "bounded by the JWKS timeout");
    }),
});

Deno.test({
  name: "a JWKS endpoint answering 500 or non-JSON, or refusing connections: 503, never 401 or 500",
  ...lenient,
  fn: () =>
    withJwksServer("500", async (jwks) => {
      assertUnavailable(await ask(appWith(jwks.url), await token()), "500");
      jwks.set("garbage");
      assertUnavailable(await ask(appWith(jwks.url), await token()), "non-JSON");
      assertUnavailable(await ask(appWith(closedPortUrl()), await token()), "connection refused");
    }),
});

Deno.test({
  name: "during an outage known keys keep verifying; unknown keys are 503, and 401 once the keys answer",
  ...lenient,
  fn: () =>
    withJwksServer("ok", async (jwks) => {
      // A key set that is stale at once, so every lookup refetches first (as after cacheMaxAge).
      const app = appWith(jwks.url, { jwksCacheMaxAgeMs: 0 });
      assertEquals((await ask(app, await token())).status, 200);
      jwks.set("500");
      const during = await ask(app, await token("user_authtest2"));
      assertEquals(during.status, 200, JSON.stringify(during.body));
      assertEquals(during.body.sub, "user_authtest2");
      // Right after a failed fetch, requests use the known keys without waiting on the endpoint.
      const hitsAfterFailure = jwks.hits;
      for (let i = 0; i < 3; i++) {
        assertEquals((await ask(app, await token(`user_authtest3${i}`))).status, 200);
      }
      assertEquals(jwks.hits, hitsAfterFailure, "no refetch during the outage backoff");
      assertUnavailable(
        await ask(app, await token(undefined, { foreign: true })),
        "unknown kid during outage",
      );
      jwks.set("ok");
      // Keys fetched again: an unknown kid is the token's problem now.
      const fresh = appWith(jwks.url);
      assertEquals((await ask(fresh, await token())).status, 200);
      assertEquals((await ask(fresh, await token(undefined, { foreign: true }))).status, 401);
    }),
});

Deno.test({
  name: "iat in the future beyond the clock tolerance is refused; within it, accepted",
  ...lenient,
  fn: () =>
    withJwksServer("ok", async (jwks) => {
      const app = appWith(jwks.url);
      const now = Math.floor(Date.now() / 1000);
      const dayAhead = await ask(app, await token(undefined, { iat: now + 86_400, exp: now + 86_400 + 60 }));
      assertEquals(dayAhead.status, 401, JSON.stringify(dayAhead.body));
      assertEquals((await ask(app, await token(undefined, { iat: now + 60 }))).status, 401);
      assertEquals((await ask(app, await token(undefined, { iat: now + 3 }))).status, 200);
    }),
});

Deno.test("over HTTP: a dev token issued a day in the future is a 401 on every function", async () => {
  const userId = await createUser();
  const jwt = await tokenIssuedInTheFuture(userId);
  for (const [fn, path] of [["api", "/me"], ["privacy", "/requests"], ["admin", "/jobs"]]) {
    const response = await call(fn, path, { headers: { authorization: `Bearer ${jwt}` } });
    assertEquals(response.status, 401, `${fn}${path}: ${response.text}`);
  }
});
