/**
 * Routes called in this process with `app.request` (no HTTP server, no gateway hop): the same
 * Hono apps the gateway serves, the same session check and database, in milliseconds per route.
 * The HTTP integration tests (api_test, privacy_test, admin_test) keep the served path; a new
 * route can be tried here first:
 *   bash tools/run.sh deno test -A tests/routes_inprocess_test.ts   (against `npm run dev`)
 * Also shows the repository seam: two repository functions composed in one transaction that the
 * caller chooses (withUser), rolled back together.
 *
 * Its own file because importing the function entry points installs their process-wide error
 * guards, which should not apply to other test files.
 */
import { assert, assertEquals, assertExists, assertMatch } from "@std/assert";
import type { Hono } from "hono";
import { functionApp } from "./_support/apps.ts";
import { bearer } from "./_support/auth.ts";
import { adminSql, createUser } from "./_support/db.ts";
import { withUser } from "../supabase/functions/_shared/db.ts";
import type { Tx } from "../supabase/functions/_shared/db.ts";
import { createProject, getProject } from "../supabase/functions/api/repositories/projects.ts";
import { listTabs, replaceTabs } from "../supabase/functions/api/repositories/tabs.ts";
import { findOrProvisionMe, updateMe } from "../supabase/functions/api/repositories/users.ts";
import { page, Project, User } from "../supabase/functions/api/schemas.ts";
import { DataMap, DsarRequest, DsarRequestPage } from "../supabase/functions/privacy/schemas.ts";
import {
  AlertList,
  AuditEntryPage,
  JobList,
  MigrationComparison,
} from "../supabase/functions/admin/schemas.ts";
import { FoundUsers, StaffList } from "../supabase/functions/admin/staff_schemas.ts";

const options = { sanitizeOps: false, sanitizeResources: false };

interface Operation {
  security?: unknown[];
  parameters?: { name: string }[];
  requestBody?: { content: Record<string, { schema: { required?: string[] } }> };
  responses: Record<string, { content?: Record<string, { schema: { required?: string[] } }> }>;
}

async function request(app: Hono, path: string, init: RequestInit & { sub?: string } = {}) {
  const headers = new Headers(init.headers);
  if (init.sub) {
    for (const [name, value] of Object.entries(await bearer(init.sub))) {
      headers.set(name, value);
    }
  }
  if (init.body !== undefined) headers.set("content-type", "application/json");
  const response = await app.request(path, { ...init, headers });
  const text = await response.text();
  return { status: response.status, headers: response.headers, json: text ? JSON.parse(text) : undefined };
}

Deno.test({
  name: "in process: api health, me, and a project's life (create, read, change, delete, restore)",
  ...options,
  fn: async () => {
    const api = await functionApp("api");
    assertEquals((await request(api, "/api/health")).json, { status: "ok" });

    const sub = await createUser();
    const me = await request(api, "/api/me", { sub });
    assertEquals([me.status, me.json.id], [200, sub]);
    // Responses have the shapes the OpenAPI document shows (the same zod schemas).
    User.parse(me.json);

    const created = await request(api, "/api/projects", {
      sub,
      method: "POST",
      body: JSON.stringify({ name: "In process" }),
    });
    assertEquals(created.status, 201);
    assertMatch(created.headers.get("location") ?? "", new RegExp(`/projects/${created.json.id}$`));
    Project.parse(created.json);
    const path = `/api/projects/${created.json.id}`;
    page(Project).parse((await request(api, "/api/projects", { sub })).json);

    assertEquals((await request(api, path, { sub })).json.name, "In process");
    const renamed = await request(api, path, {
      sub,
      method: "PATCH",
      body: JSON.stringify({ name: "Renamed" }),
    });
    assertEquals([renamed.status, renamed.json.name], [200, "Renamed"]);
    assertEquals((await request(api, path, { sub, method: "DELETE" })).status, 204);
    const restored = await request(api, `${path}/restore`, { sub, method: "POST" });
    assertEquals([restored.status, restored.json.status], [200, "active"]);

    // Another user's project does not exist for them.
    assertEquals((await request(api, path, { sub: await createUser() })).status, 404);
    // Tabs are replaced under If-Match only.
    const tabs = await request(api, `${path}/tabs`, {
      sub,
      method: "PUT",
      body: JSON.stringify({ tabs: [] }),
    });
    assertEquals(tabs.status, 428);
  },
});

Deno.test({
  name: "in process: privacy and admin answer from the same apps the gateway serves",
  ...options,
  fn: async () => {
    const privacy = await functionApp("privacy");
    const subject = await createUser();
    const listed = await request(privacy, "/privacy/requests", { sub: subject });
    assertEquals([listed.status, listed.json.data], [200, []]);
    // Responses have the shapes the OpenAPI document shows (the same zod schemas).
    const created = await request(privacy, "/privacy/requests", {
      sub: subject,
      method: "POST",
      body: JSON.stringify({ kind: "export" }),
    });
    assertEquals(created.status, 201);
    DsarRequest.parse(created.json);
    DsarRequestPage.parse((await request(privacy, "/privacy/requests", { sub: subject })).json);

    const admin = await functionApp("admin");
    assertEquals((await request(admin, "/admin/jobs", { sub: subject })).status, 403);
    const support = await createUser("support");
    const jobs = await request(admin, "/admin/jobs", { sub: support });
    assertEquals(jobs.status, 200);
    assert(jobs.json.data.some((job: { name: string }) => job.name === "trim-workspace-history"));
    JobList.parse(jobs.json);

    DataMap.parse((await request(privacy, "/privacy/data-map", { sub: support })).json);
    const answers = async (path: string, sub = support) => {
      const response = await request(admin, path, { sub });
      assertEquals(response.status, 200, path);
      return response.json;
    };
    AlertList.parse(await answers("/admin/alerts"));
    MigrationComparison.parse(await answers("/admin/migrations"));
    AuditEntryPage.parse(await answers("/admin/audit?limit=5"));
    const found = FoundUsers.parse(await answers(`/admin/users?id=${subject}`));
    assertEquals(found.data.map((user) => user.user_id), [subject]);
    StaffList.parse(await answers("/admin/staff", await createUser("admin")));
  },
});

Deno.test({
  name: "in process: every function serves the OpenAPI document generated from its routes",
  ...options,
  fn: async () => {
    const staff = await createUser("support");
    const documents: Record<string, { paths: Record<string, Record<string, Operation>> }> = {};
    for (const [fn, sub] of [["api"], ["privacy", staff], ["admin", staff], ["clerk-webhooks"]]) {
      const response = await request(await functionApp(fn!), `/${fn}/openapi.json`, { sub });
      assertEquals(response.status, 200, fn);
      assertEquals(response.json.openapi, "3.1.0", fn);
      documents[fn!] = response.json;
    }
    assertExists(documents.privacy.paths["/requests/{id}/grace"].post);
    assertExists(documents.admin.paths["/audit/verify"].get);
    // Response bodies are described by the same zod schemas the in-process tests parse them with.
    const bodyOf = (operation: Operation, status = "200") =>
      operation.responses[status].content?.["application/json"].schema;
    assert(bodyOf(documents.privacy.paths["/requests"].post, "201")?.required?.includes("export_url"));
    assertEquals(bodyOf(documents.privacy.paths["/requests"].get)?.required, ["data", "next_cursor"]);
    assert(bodyOf(documents.admin.paths["/jobs"].get)?.required?.includes("healthy"));
    assert(bodyOf(documents.admin.paths["/audit/verify"].get)?.required?.includes("entries_checked"));

    // The webhook: public document, the one route behind the Svix signature, as it answers.
    const webhooks = documents["clerk-webhooks"] as typeof documents.api & {
      security: unknown[];
      components: { securitySchemes: Record<string, { name?: string }> };
    };
    assertEquals(webhooks.security, [{ svixSignature: [] }]);
    assertEquals(webhooks.components.securitySchemes.svixSignature.name, "svix-signature");
    assertEquals(webhooks.paths["/openapi.json"].get.security, []);
    const receive = webhooks.paths["/"].post;
    assertEquals(Object.keys(receive.responses).sort(), ["200", "400", "401", "413", "415", "503"]);
    assertEquals(receive.requestBody?.content["application/json"].schema.required, [
      "object",
      "type",
      "data",
    ]);
    assertEquals(
      receive.parameters?.map((p) => p.name),
      ["svix-id", "svix-timestamp"],
    );
    const receipt = receive.responses["200"].content?.["application/json"].schema;
    assertEquals(receipt?.required, ["svix_id", "type", "outcome"]);
  },
});

Deno.test({
  name: "repositories compose: two calls in one transaction the caller chooses, rolled back together",
  ...options,
  fn: async () => {
    await functionApp("api"); // configures the database from the tests' environment
    const sub = await createUser();
    const profile = { email: null, first_name: null, last_name: null, image_url: null };
    class Undo extends Error {}
    let seen: string | undefined;
    const outcome = await withUser({ sub }, async (tx) => {
      const project = await createProject(tx, sub, profile, { name: "composed" });
      const [read] = await getProject(tx, sub, project.id);
      seen = read?.name;
      throw new Undo();
    }).catch((error) => error);
    assert(outcome instanceof Undo);
    assertEquals(seen, "composed", "the second call sees the first one's write");
    const [{ count }] =
      await adminSql`select count(*)::int as count from public.projects where user_id = ${sub}`;
    assertEquals(count, 0, "and both are rolled back together");
  },
});

// --- One round trip for the statements a repository function needs together ------------------
/** The parts of a postgres.js 3.4.9 Query this test watches (src/query.js, src/connection.js). */
interface WatchedQuery {
  handler: (query: unknown) => void;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The transaction as a repository function sees it, noting when each of its statements is handed to
 * the connection ("sent") and when the server's answer arrives ("answered"). postgres.js sends a
 * statement only when it is awaited or executed, so statements awaited one after the other show up
 * as sent, answered, sent, answered: a round trip each.
 */
function watched(tx: Tx, events: string[]): Tx {
  let count = 0;
  return new Proxy(tx, {
    apply(target, thisArg, args) {
      const query = Reflect.apply(target, thisArg, args) as WatchedQuery;
      const n = count++;
      const { handler, resolve, reject } = query;
      query.handler = (self) => (events.push(`sent ${n}`), handler(self));
      query.resolve = (value) => (events.push(`answered ${n}`), resolve(value));
      query.reject = (error) => (events.push(`answered ${n}`), reject(error));
      return query;
    },
  });
}

/** Every statement was on its way before the first answer came back. */
function assertOneRoundTrip(name: string, events: string[]) {
  const sent = events.filter((event) => event.startsWith("sent")).length;
  assert(sent >= 2, `${name} sent fewer than two statements: ${events.join(", ")}`);
  assert(
    events.slice(0, sent).every((event) => event.startsWith("sent")),
    `${name} waits for an answer before sending its next statement: ${events.join(", ")}`,
  );
}

Deno.test({
  name: "repository functions send the statements they need together: one round trip, not one each",
  ...options,
  fn: async () => {
    await functionApp("api");
    const sub = await createUser();
    const claims = { sub };
    const profile = { email: null, first_name: null, last_name: null, image_url: null };
    class Undo extends Error {}
    const outcome = await withUser(claims, async (tx) => {
      const check = async (name: string, call: (watchedTx: Tx) => Promise<unknown>) => {
        const events: string[] = [];
        await call(watched(tx, events));
        assertOneRoundTrip(name, events);
      };
      await check("findOrProvisionMe", (t) => findOrProvisionMe(t, sub, profile));
      await check("updateMe", (t) => updateMe(t, sub, profile, { display_name: "Watched" }));
      const project = await createProject(tx, sub, profile, { name: "watched" });
      await check("createProject", (t) => createProject(t, sub, profile, { name: "watched too" }));
      await check("listTabs", (t) => listTabs(t, claims, project.id));
      const tab = { id: crypto.randomUUID(), position: 0, title: "One", kind: "doc", metadata: {} };
      await check("replaceTabs", (t) => replaceTabs(t, claims, project.id, project.tabs_version, [tab]));
      throw new Undo();
    }).catch((error) => error);
    assert(outcome instanceof Undo, String(outcome));
  },
});

Deno.test({
  name: "the round-trip check sees statements awaited one after the other",
  ...options,
  fn: async () => {
    await functionApp("api");
    const sub = await createUser();
    const events: string[] = [];
    await withUser({ sub }, async (tx) => {
      const t = watched(tx, events);
      const first = t`select 1 as one`;
      const second = t`select 2 as two`;
      await first;
      await second;
    });
    assertEquals(events, ["sent 0", "answered 0", "sent 1", "answered 1"]);
  },
});
