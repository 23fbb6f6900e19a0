/**
 * Deny by default: every route of every function, enumerated from the Hono apps themselves
 * (`app.routes`, so a route added tomorrow is covered without editing this test), answers 401
 * without credentials, except the few named public ones; unknown paths are 401 too. The apps are
 * imported in this process (as the gateway does) and called with `app.request`; nothing reaches
 * the database before the 401.
 *
 * Its own file because importing the function entry points installs their process-wide error
 * guards, which should not apply to other test files.
 */
import { assert, assertEquals, assertNotEquals } from "@std/assert";
import { functionApp, PUBLIC_ROUTES as PUBLIC } from "./_support/apps.ts";

const FUNCTIONS = ["api", "privacy", "admin", "clerk-webhooks"] as const;

const appOf = functionApp;

/** Concrete paths for a route pattern: `:id` becomes a uuid, `*` a segment. */
function concrete(path: string): string {
  return path.replace(/:[A-Za-z_]+(\{[^}]*\})?/g, crypto.randomUUID()).replace(/\*/g, "anything");
}

Deno.test({
  name: "every non-public route of every function answers 401 without credentials",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    let checked = 0;
    for (const name of FUNCTIONS) {
      const app = await appOf(name);
      const endpoints = app.routes.filter((route) => route.method !== "ALL");
      assert(endpoints.length > 0, `${name} has routes`);
      for (const route of endpoints) {
        const key = `${route.method} ${route.path}`;
        const init: RequestInit = { method: route.method };
        if (["POST", "PUT", "PATCH"].includes(route.method)) {
          init.body = "{}";
          init.headers = { "content-type": "application/json" };
        }
        const response = await app.request(concrete(route.path), init);
        await response.body?.cancel();
        if (PUBLIC.has(key)) assertNotEquals(response.status, 401, key);
        else assertEquals(response.status, 401, `${key} answered ${response.status} without a token`);
        checked++;
      }
      // Paths no route serves: 401 as well (no map of what exists for anonymous callers).
      for (const method of ["GET", "POST", "DELETE"]) {
        const response = await app.request(`/${name}/no-such-route/${crypto.randomUUID()}`, { method });
        await response.body?.cancel();
        assertEquals(response.status, 401, `${method} unknown path of ${name}`);
      }
    }
    assert(checked >= 15, `checked ${checked} routes`);
  },
});

Deno.test({
  name: "a garbage bearer token is a 401 on every non-public route",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    for (const name of ["api", "privacy", "admin"]) {
      const app = await appOf(name);
      for (const route of app.routes.filter((route) => route.method !== "ALL")) {
        if (PUBLIC.has(`${route.method} ${route.path}`)) continue;
        const response = await app.request(concrete(route.path), {
          method: route.method,
          headers: { authorization: "Bearer a.b.c" },
        });
        await response.body?.cancel();
        assertEquals(response.status, 401, `${route.method} ${route.path}`);
      }
    }
  },
});
