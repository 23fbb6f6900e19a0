/**
 * Property-based fuzzing (fast-check) of every route of every function, over HTTP through the
 * gateway: hostile bodies, query strings, headers, path parameters and cursors.
 *
 * Routes: the api function's from its OpenAPI document (/api/openapi.json, with its body and
 * query schemas); privacy, admin and clerk-webhooks from the Hono apps themselves (`app.routes`,
 * imported like the gateway does), with their body and query schemas from their schemas.ts; a
 * route without a known schema still gets generic hostile input. Every route found is fuzzed.
 *
 * Properties, per case:
 * - never a 5xx;
 * - a refused request (4xx) changes nothing: a checksum of every row the fuzz users own (users,
 *   projects, tabs, history, privacy requests and exports, audit entries they caused), read over
 *   a direct admin connection, is the same before and after; privacy.rate_limits is left out on
 *   purpose (a refused call still counts against the caller's limit);
 * - input of the classes the issue lists is refused with a 4xx problem: no or bad credentials
 *   (401), a NUL character or unpaired surrogate in any string or key, nesting deeper than the
 *   limit, malformed JSON, a forged cursor, a date that is no instant, in a route's body or query.
 * A 2xx (a hostile-looking but valid request) re-baselines the checksum.
 *
 * Bounded: FUZZ_RUNS cases in total (default 3,000, about 15 s), spread over the functions; FUZZ_SEED
 * reproduces a run (the seed is printed).
 */
import { assert, assertEquals } from "@std/assert";
import fc from "fast-check";
import { z } from "zod";
import { adminSql, createUser } from "./_support/db.ts";
import { tokenFor, tokenIssuedInTheFuture } from "./_support/auth.ts";
import { FUNCTIONS_URL } from "./_support/env.ts";
import { functionApp, PUBLIC_ROUTES } from "./_support/apps.ts";
import {
  CreateRequestBody,
  ListRequestsQuery,
  RunErasuresBody,
} from "../supabase/functions/privacy/schemas.ts";
import { AuditListQuery, VerifyQuery } from "../supabase/functions/admin/schemas.ts";

const TOTAL_RUNS = Number(Deno.env.get("FUZZ_RUNS") ?? 3_000);
const SEED = Number(Deno.env.get("FUZZ_SEED") ?? Date.now() % 2_147_483_647);
console.log(`fuzz: ${TOTAL_RUNS} cases, seed ${SEED} (FUZZ_SEED=${SEED} reproduces)`);

// --- Routes --------------------------------------------------------------------------------------

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
};

interface Endpoint {
  fn: string;
  method: string;
  /** Hono style: /projects/:id */
  path: string;
  body?: Record<string, JsonSchema>;
  query?: Record<string, JsonSchema>;
  /** Answers without credentials. */
  public?: boolean;
}

const propertiesOf = (schema: z.ZodType) =>
  (z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema).properties ?? {};

async function apiEndpoints(): Promise<Endpoint[]> {
  const response = await fetch(`${FUNCTIONS_URL}/api/openapi.json`);
  const document = await response.json();
  const endpoints: Endpoint[] = [];
  for (const [path, item] of Object.entries<Record<string, unknown>>(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const op = operation as {
        security?: unknown[];
        parameters?: { name: string; in: string; schema: JsonSchema }[];
        requestBody?: { content: { "application/json": { schema: JsonSchema } } };
      };
      const query = Object.fromEntries(
        (op.parameters ?? []).filter((p) => p.in === "query").map((p) => [p.name, p.schema]),
      );
      endpoints.push({
        fn: "api",
        method: method.toUpperCase(),
        path: path.replace(/\{([^}]+)\}/g, ":$1"),
        body: op.requestBody?.content["application/json"].schema.properties,
        query: Object.keys(query).length > 0 ? query : undefined,
        public: Array.isArray(op.security) && op.security.length === 0,
      });
    }
  }
  return endpoints;
}

/** Body and query schemas of the functions whose routes are read from the app, by route. */
const KNOWN_SHAPES: Record<string, Pick<Endpoint, "body" | "query">> = {
  "POST /privacy/requests": { body: propertiesOf(CreateRequestBody) },
  "GET /privacy/requests": { query: propertiesOf(ListRequestsQuery) },
  "POST /privacy/erasures/run": { body: propertiesOf(RunErasuresBody) },
  "GET /admin/audit": { query: propertiesOf(AuditListQuery) },
  "GET /admin/audit/verify": { query: propertiesOf(VerifyQuery) },
};

/** The Hono app of a function, imported as the gateway does (it is not served from here). */
const appOf = functionApp;

/** Every route a function serves, as "METHOD /path" relative to the function. */
async function routeKeys(fn: string): Promise<Set<string>> {
  const app = await appOf(fn);
  return new Set(
    app.routes.filter((route) => route.method !== "ALL").map((route) =>
      `${route.method} ${route.path.slice(`/${fn}`.length) || "/"}`
    ),
  );
}

async function appEndpoints(fn: string): Promise<Endpoint[]> {
  const app = await appOf(fn);
  const seen = new Set<string>();
  const endpoints: Endpoint[] = [];
  for (const route of app.routes) {
    if (route.method === "ALL") continue;
    const key = `${route.method} ${route.path}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const path = route.path.slice(`/${fn}`.length) || "/";
    endpoints.push({ fn, method: route.method, path, ...KNOWN_SHAPES[key], public: PUBLIC_ROUTES.has(key) });
  }
  return endpoints;
}

// --- Actors and data -----------------------------------------------------------------------------

interface Actor {
  id: string;
  token: string;
  projectId: string;
  staff: boolean;
}

const fuzzUsers: string[] = [];
let actors: Actor[] = [];
let strangerProject = "";
let knownRequestIds: string[] = [];
let expiredToken = "";
let futureToken = "";

async function setUp(): Promise<void> {
  if (actors.length > 0) return;
  // Several users, so the privacy rate limits (per actor, per hour) leave room for real checks.
  const made: Actor[] = [];
  for (let i = 0; i < 8; i++) {
    const staff = i >= 6;
    const id = await createUser(i === 7 ? "admin" : staff ? "support" : "user", "fz");
    const [project] = await adminSql`
      insert into public.projects (user_id, name, metadata) values (${id}, ${`fuzz ${i}`}, '{"k": 1}')
      returning id`;
    await adminSql`
      insert into public.workspace_tabs (project_id, user_id, position, title, kind)
      values (${project.id}, ${id}, 0, 'one', 'notes'), (${project.id}, ${id}, 1, 'two', 'notes')`;
    await adminSql`
      insert into privacy.requests (kind, subject_user_id, requested_as, requester_user_id, status)
      values ('export', ${id}, 'subject', ${id}, 'received')`;
    made.push({ id, token: await tokenFor(id), projectId: project.id, staff });
    fuzzUsers.push(id);
  }
  const stranger = await createUser("user", "fz");
  fuzzUsers.push(stranger);
  strangerProject = (await adminSql`
    insert into public.projects (user_id, name) values (${stranger}, 'stranger') returning id`)[0].id;
  knownRequestIds = (await adminSql`
    select id from privacy.requests where subject_user_id = any(${fuzzUsers})`).map((row) => row.id);
  expiredToken = await tokenFor(made[0].id, { now: Math.floor(Date.now() / 1000) - 7_200, expiresIn: 60 });
  futureToken = await tokenIssuedInTheFuture(made[0].id);
  actors = made;
}

/**
 * One fingerprint per table of everything the fuzz users own or caused (not privacy.rate_limits),
 * so a failure names what changed.
 */
async function checksum(): Promise<string> {
  const [row] = await adminSql`
    select
      md5(coalesce((select string_agg(u::text, ',' order by u.id) from public.users u
        where u.id = any(${fuzzUsers})), '')) as users,
      md5(coalesce((select string_agg(p::text, ',' order by p.id) from public.projects p
        where p.user_id = any(${fuzzUsers})), '')) as projects,
      md5(coalesce((select string_agg(t::text, ',' order by t.id) from public.workspace_tabs t
        where t.user_id = any(${fuzzUsers})), '')) as tabs,
      (select count(*) || ':' || coalesce(max(h.id), 0) from public.workspace_history h
        where h.user_id = any(${fuzzUsers})) as history,
      md5(coalesce((select string_agg(r::text, ',' order by r.id) from privacy.requests r
        where r.subject_user_id = any(${fuzzUsers}) or r.requester_user_id = any(${fuzzUsers})), '')) as requests,
      md5(coalesce((select string_agg(e.request_id::text || ':' || e.downloads, ',' order by e.request_id)
        from privacy.exports e where e.subject_user_id = any(${fuzzUsers})), '')) as exports,
      (select count(*) || ':' || coalesce(max(l.id), 0) from audit.log l where l.actor = any(${fuzzUsers})) as audit`;
  return JSON.stringify(row, null, 1);
}

// --- Generators ----------------------------------------------------------------------------------

/** Strings Postgres cannot store, or that have broken things before. */
const nastyString = fc.oneof(
  fc.string().map((s) => `${s}\u0000${s}`),
  fc.constant("\u0000"),
  fc.string().map((s) => `${s}\ud800`),
  fc.constant("\udfff\ud800"),
);
const badInstant = fc.constantFrom(
  "2026-13-01T00:00:00Z",
  "2026-02-30T00:00:00Z",
  "2026-01-01T99:00:00Z",
  "0000-01-01T00:00:00Z",
  "0000-12-31T23:59:59.999999+00:00",
  "10000-01-01T00:00:00Z",
  "2026-01-01T00:00:00+99:00",
  "infinity",
  "-infinity",
  "epoch",
);
const hugeNumberText = fc.constantFrom(
  "1e400",
  "-1e400",
  "9999999999999999999",
  "-9223372036854775809",
  "1" + "0".repeat(400),
  "0." + "0".repeat(400) + "1",
  "1e-400",
);
const oddString = fc.oneof(
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.constantFrom("", " ", "\t", "\n", "null", "undefined", "'; drop table users; --", "%00", "..", "../.."),
  fc.constant("x".repeat(20_000)),
  fc.string({ unit: "binary", maxLength: 30 }),
);
const oddScalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, -1, 0, 2 ** 53 + 1, 1e308),
  oddString,
);

/** A JSON value as text; may hold hostile parts. `hostile` says whether it surely does. */
interface JsonText {
  text: string;
  hostile: boolean;
}

const jsonOf = (value: unknown): JsonText => ({ text: JSON.stringify(value), hostile: false });

const nastyJson: fc.Arbitrary<JsonText> = fc.oneof(
  nastyString.map((s) => ({ text: JSON.stringify(s), hostile: true })),
  // A NUL or surrogate in a key.
  nastyString.map((s) => ({ text: JSON.stringify({ [s]: 1 }), hostile: true })),
  // Deeper than the limit, up to the ~29k arrays that overflowed the stack inside the body limit.
  fc.constantFrom(65, 300, 5_000, 29_000).map((depth) => ({
    text: "[".repeat(depth) + "]".repeat(depth),
    hostile: true,
  })),
  fc.constantFrom(100, 10_000).map((depth) => ({
    text: '{"a":'.repeat(depth) + "1" + "}".repeat(depth),
    hostile: true,
  })),
);
const oddJson: fc.Arbitrary<JsonText> = fc.oneof(
  oddScalar.map(jsonOf),
  hugeNumberText.map((text) => ({ text, hostile: false })),
  badInstant.map(jsonOf),
  fc.jsonValue({ maxDepth: 3 }).map(jsonOf),
  fc.array(oddScalar, { maxLength: 5 }).map(jsonOf),
);

/** A plausible value for a JSON schema (so strict objects let the request reach deeper). */
function plausible(schema: JsonSchema | undefined, actor: Actor): fc.Arbitrary<JsonText> {
  if (!schema) return oddJson;
  if (schema.anyOf) return fc.oneof(...schema.anyOf.map((option) => plausible(option, actor)));
  if (schema.enum) return fc.constantFrom(...schema.enum).map(jsonOf);
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "string":
      if (schema.format === "uuid") {
        return fc.constantFrom(actor.projectId, strangerProject, crypto.randomUUID()).map(jsonOf);
      }
      if (schema.format === "date-time") {
        return fc.date({ noInvalidDate: true }).map((d) => jsonOf(d.toISOString()));
      }
      if (schema.pattern) {
        return fc.stringMatching(new RegExp(schema.pattern), { maxLength: 80 }).map(jsonOf);
      }
      return fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 }).map(jsonOf);
    case "integer":
    case "number": {
      const min = Math.max(schema.minimum ?? -10, -1e6);
      const max = Math.max(min, Math.min(schema.maximum ?? 1_000, 1e6));
      return fc.integer({ min: Math.ceil(min), max: Math.floor(max) }).map(jsonOf);
    }
    case "boolean":
      return fc.boolean().map(jsonOf);
    case "array":
      return fc.array(plausible(schema.items, actor), { maxLength: 3 }).map((items) => ({
        text: `[${items.map((item) => item.text).join(",")}]`,
        hostile: items.some((item) => item.hostile),
      }));
    case "object":
      if (schema.properties) return objectOf(schema.properties, actor);
      return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }).map(
        jsonOf,
      );
    default:
      return oddJson;
  }
}

/** One value from each arbitrary, as an array. */
function allOf<T>(arbitraries: fc.Arbitrary<T>[]): fc.Arbitrary<T[]> {
  if (arbitraries.length === 0) return fc.constant([] as T[]);
  return fc.tuple(...arbitraries) as unknown as fc.Arbitrary<T[]>;
}

/** An object over `properties`: some plausible, sometimes one hostile, sometimes an unknown key. */
function objectOf(properties: Record<string, JsonSchema>, actor: Actor): fc.Arbitrary<JsonText> {
  const names = Object.keys(properties);
  const field = (name: string) =>
    fc.oneof(
      { weight: 4, arbitrary: plausible(properties[name], actor) },
      { weight: 2, arbitrary: nastyJson },
      { weight: 1, arbitrary: oddJson },
    ).map((value) => ({ name, value }));
  return fc.tuple(
    fc.subarray(names).chain((chosen) => allOf(chosen.map(field))),
    fc.option(fc.tuple(fc.oneof(fc.string({ maxLength: 10 }), nastyString), oddJson), { freq: 5 }),
  ).map(([fields, extra]) => {
    const parts = fields.map(({ name, value }) => `${JSON.stringify(name)}:${value.text}`);
    let hostile = fields.some(({ value }) => value.hostile);
    if (extra) {
      parts.push(`${JSON.stringify(extra[0])}:${extra[1].text}`);
      hostile ||= extra[1].hostile || extra[0].includes("\u0000") || !extra[0].isWellFormed();
    }
    return { text: `{${parts.join(",")}}`, hostile };
  });
}

/** A whole body: a plausible object, hostile JSON, or not JSON at all. */
function bodyFor(endpoint: Endpoint, actor: Actor): fc.Arbitrary<JsonText | undefined> {
  const shaped = endpoint.body ? [objectOf(endpoint.body, actor)] : [];
  const notJson = fc.constantFrom(
    "{",
    "{'a': 1}",
    '{"a":1,}',
    "nul",
    "\ufeff{}",
    '{"a": "\u0000"}', // a raw NUL byte inside a JSON string: a control character, not JSON
    "[".repeat(100_000), // still inside the body limit
  ).map((text) => ({ text, hostile: true }));
  return fc.oneof(
    { weight: 6, arbitrary: shaped.length ? shaped[0] : oddJson },
    { weight: 3, arbitrary: nastyJson },
    { weight: 2, arbitrary: notJson },
    { weight: 1, arbitrary: oddJson },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );
}

const encodeCursor = (values: unknown) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(JSON.stringify(values))))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

const forgedCursor = fc.oneof(
  fc.tuple(badInstant, fc.uuid()).map(encodeCursor),
  fc.tuple(badInstant, fc.constantFrom("1", "9999999999999999999")).map(encodeCursor),
  fc.constant(encodeCursor(["2026-01-01T00:00:00.000000Z", "9999999999999999999"])),
  fc.constant(encodeCursor(["9999999999999999999"])),
  fc.constant(encodeCursor(["2026-01-01T00:00:00.000000Z", "not-a-uuid"])),
  fc.jsonValue({ maxDepth: 2 }).map(encodeCursor),
  nastyString.map((s) => encodeCursor([s, s])),
  fc.constantFrom("%00", "A".repeat(600), "====", "!!", "e30"),
);

/**
 * encodeURIComponent, except that an unpaired surrogate (which it refuses) is sent as the three
 * bytes of its WTF-8 form, which is not UTF-8: hostile on purpose.
 */
function percentEncode(value: string): string {
  let out = "";
  for (const char of value) {
    const unit = char.charCodeAt(0);
    if (char.length === 1 && unit >= 0xd800 && unit <= 0xdfff) {
      const bytes = [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)];
      out += bytes.map((byte) => `%${byte.toString(16).toUpperCase()}`).join("");
    } else out += encodeURIComponent(char);
  }
  return out;
}

interface QueryText {
  text: string;
  hostile: boolean;
}

function queryFor(endpoint: Endpoint, actor: Actor): fc.Arbitrary<QueryText> {
  const known = endpoint.query ?? {};
  const names = Object.keys(known);
  const rawValue = (value: JsonText) => {
    const parsed = JSON.parse(value.text.length < 200_000 ? value.text : '""');
    return typeof parsed === "string" ? parsed : value.text;
  };
  const param = (name: string): fc.Arbitrary<{ text: string; hostile: boolean }> =>
    fc.oneof(
      {
        weight: 4,
        arbitrary: plausible(known[name], actor).map((v) => ({ value: rawValue(v), hostile: false })),
      },
      // A NUL must be refused; an unpaired surrogate arrives as bytes that are not UTF-8, which the
      // router leaves percent-encoded (a literal, storable string), so it is hostile, not refusable.
      { weight: 2, arbitrary: nastyString.map((value) => ({ value, hostile: value.includes("\u0000") })) },
      {
        weight: name === "cursor" ? 4 : 0,
        arbitrary: forgedCursor.map((value) => ({ value, hostile: true })),
      },
      {
        weight: name === "from" || name === "to" ? 3 : 0,
        arbitrary: badInstant.map((value) => ({ value, hostile: true })),
      },
      { weight: 1, arbitrary: oddString.map((value) => ({ value, hostile: false })) },
    ).map(({ value, hostile }) => ({
      text: `${encodeURIComponent(name)}=${percentEncode(value).slice(0, 4_000)}`,
      hostile: hostile && endpoint.query !== undefined,
    }));
  const rawPieces = fc.constantFrom(
    "limit=1&limit=2",
    "%00=1",
    "a=%ED%A0%80",
    "limit=%C0%80",
    "cursor=%ZZ",
    "=",
    "&&",
  );
  return fc.tuple(
    fc.subarray(names, { maxLength: Math.min(4, names.length) }).chain((chosen) => allOf(chosen.map(param))),
    fc.option(rawPieces, { freq: 4 }),
  ).map(([params, raw]) => {
    const pieces = params.map((p) => p.text);
    if (raw) pieces.push(raw);
    return {
      text: pieces.join("&"),
      hostile: params.some((p) => p.hostile) || (raw === "%00=1" && endpoint.query !== undefined),
    };
  });
}

type AuthKind = "owner" | "staff" | "none" | "garbage" | "expired" | "future" | "basic";

function headersFor(auth: AuthKind, actor: Actor): fc.Arbitrary<Record<string, string>> {
  const authorization: Record<AuthKind, string | undefined> = {
    owner: `Bearer ${actor.token}`,
    staff: `Bearer ${actors.find((a) => a.staff)!.token}`,
    none: undefined,
    garbage: "Bearer eyJhbGciOiJub25lIn0.e30.",
    expired: `Bearer ${expiredToken}`,
    future: `Bearer ${futureToken}`,
    basic: "Basic dXNlcjpwYXNz",
  };
  const printable = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    maxLength: 60,
  });
  return fc.record({
    contentType: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom("application/json", "application/json; charset=utf-8") },
      {
        weight: 2,
        arbitrary: fc.constantFrom(
          "text/plain",
          "application/x-www-form-urlencoded",
          "application/merge-patch+json",
          "application/json; charset=utf-16",
          undefined,
        ),
      },
    ),
    ifMatch: fc.option(
      fc.oneof(
        fc.constantFrom('"1"', 'W/"1"', "1", "*", '"99999999999999999999"', '"-1"', "", '"1", "2"'),
        printable,
      ),
      { freq: 2 },
    ),
    requestId: fc.option(fc.oneof(printable, fc.constant("x".repeat(5_000))), { freq: 3 }),
    extra: fc.option(
      fc.tuple(
        fc.constantFrom(
          "x-forwarded-for",
          "origin",
          "svix-id",
          "svix-signature",
          "apikey",
          "x-privacy-runner-secret",
        ),
        printable,
      ),
    ),
  }).map(({ contentType, ifMatch, requestId, extra }) => {
    const headers: Record<string, string> = {};
    if (authorization[auth]) headers.authorization = authorization[auth]!;
    if (contentType) headers["content-type"] = contentType;
    if (ifMatch !== null) headers["if-match"] = ifMatch;
    if (requestId !== null) headers["x-request-id"] = requestId;
    if (extra) headers[extra[0]] = extra[1];
    return headers;
  });
}

function pathFor(endpoint: Endpoint, actor: Actor): fc.Arbitrary<string> {
  if (!endpoint.path.includes(":")) return fc.constant(endpoint.path);
  const id = fc.oneof(
    { weight: 4, arbitrary: fc.constant(actor.projectId) },
    { weight: 2, arbitrary: fc.constantFrom(...knownRequestIds) },
    { weight: 1, arbitrary: fc.constant(strangerProject) },
    { weight: 1, arbitrary: fc.uuid() },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "not-a-uuid",
        "%00",
        "00000000-0000-0000-0000-000000000000",
        actor.projectId.toUpperCase(),
        `${actor.projectId}%00`,
        "..%2F..%2Fadmin",
        "x".repeat(2_000),
      ),
    },
  );
  return id.map((value) => endpoint.path.replace(/:[A-Za-z_]+/g, value));
}

interface Case {
  endpoint: Endpoint;
  actor: Actor;
  auth: AuthKind;
  path: string;
  query: QueryText;
  headers: Record<string, string>;
  body: JsonText | undefined;
}

function caseFor(endpoints: Endpoint[]): fc.Arbitrary<Case> {
  return fc.record({
    endpoint: fc.constantFrom(...endpoints),
    // Staff more often on admin routes (others are a 403 there, which tests little).
    actor: endpoints[0].fn === "admin"
      ? fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...actors.filter((a) => a.staff)) }, {
        weight: 1,
        arbitrary: fc.constantFrom(...actors),
      })
      : fc.constantFrom(...actors),
    auth: fc.oneof(
      { weight: 8, arbitrary: fc.constant<AuthKind>("owner") },
      { weight: 3, arbitrary: fc.constant<AuthKind>("staff") },
      { weight: 3, arbitrary: fc.constantFrom<AuthKind>("none", "garbage", "expired", "future", "basic") },
    ),
  }).chain(({ endpoint, actor, auth }) =>
    fc.record({
      endpoint: fc.constant(endpoint),
      actor: fc.constant(actor),
      auth: fc.constant(auth),
      path: pathFor(endpoint, actor),
      query: queryFor(endpoint, actor),
      headers: headersFor(auth, actor),
      body: ["POST", "PUT", "PATCH", "DELETE"].includes(endpoint.method)
        ? bodyFor(endpoint, actor)
        : fc.constant(undefined),
    })
  );
}

// --- The property ----------------------------------------------------------------------------------

interface Tally {
  cases: number;
  byStatus: Record<string, number>;
  mustRefuse: number;
}

async function runFuzz(fn: string, endpoints: Endpoint[], runs: number): Promise<Tally> {
  const tally: Tally = { cases: 0, byStatus: {}, mustRefuse: 0 };
  let baseline = await checksum();
  await fc.assert(
    fc.asyncProperty(caseFor(endpoints), async (c) => {
      const url = `${FUNCTIONS_URL}/${c.endpoint.fn}${c.path}${c.query.text ? `?${c.query.text}` : ""}`;
      const headers = { ...c.headers };
      if (c.body === undefined) delete headers["content-type"];
      const response = await fetch(url, { method: c.endpoint.method, headers, body: c.body?.text });
      const text = await response.text();
      const status = response.status;
      // The state after this case is the next case's baseline, whatever the assertions below say
      // (fast-check runs more cases while shrinking a failure).
      const before = baseline;
      baseline = await checksum();
      tally.cases++;
      tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
      const what = `${c.endpoint.method} ${url.slice(0, 300)} auth=${c.auth} body=${
        c.body?.text.slice(0, 200)
      }`;
      assert(status < 500, `${what} -> ${status} ${text.slice(0, 300)}`);

      const credentialsBad = !["owner", "staff"].includes(c.auth) && !c.endpoint.public;
      const isJson = /^application\/([\w.-]+\+)?json$/i.test(
        (headers["content-type"] ?? "").split(";")[0].trim(),
      );
      const bodyChecked = c.endpoint.body !== undefined && c.body !== undefined && c.body.hostile && isJson;
      const mustRefuse = credentialsBad || bodyChecked || c.query.hostile;
      if (credentialsBad) {
        // The shared frame refuses a body that is too large or not JSON (413/415) before any route.
        assert([401, 413, 415].includes(status), `${what} without valid credentials -> ${status}`);
      }
      if (mustRefuse) {
        tally.mustRefuse++;
        assert(status >= 400, `${what} must be refused, got ${status} ${text.slice(0, 300)}`);
      }
      if (status >= 400) {
        assertEquals(response.headers.get("content-type"), "application/problem+json", what);
        assertEquals(baseline, before, `${what} -> ${status} changed the database`);
      }
    }),
    { numRuns: runs, seed: SEED + fn.length, interruptAfterTimeLimit: 120_000, markInterruptAsFailure: true },
  );
  return tally;
}

function report(fn: string, tally: Tally, started: number) {
  const statuses = Object.entries(tally.byStatus).sort().map(([s, n]) => `${s}:${n}`).join(" ");
  console.log(
    `fuzz ${fn}: ${tally.cases} cases (${tally.mustRefuse} must-refuse) in ${
      Math.round(performance.now() - started)
    } ms; ${statuses}`,
  );
}

const SHARE: Record<string, number> = { api: 0.45, privacy: 0.25, admin: 0.22, "clerk-webhooks": 0.08 };

for (const fn of Object.keys(SHARE)) {
  Deno.test({
    name: `fuzz ${fn}: hostile input on every route is never a 5xx and a refusal changes nothing`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      await setUp();
      const endpoints = fn === "api" ? await apiEndpoints() : await appEndpoints(fn);
      assert(endpoints.length > 0, `${fn}: routes found`);
      // The OpenAPI document is the api's route list here: it must name every route the app serves.
      const fuzzed = new Set(endpoints.map((e) => `${e.method} ${e.path}`));
      for (const key of await routeKeys(fn)) {
        if (key !== "GET /openapi.json") assert(fuzzed.has(key), `${fn}: ${key} is not fuzzed`);
      }
      const started = performance.now();
      const tally = await runFuzz(fn, endpoints, Math.max(20, Math.round(TOTAL_RUNS * SHARE[fn])));
      report(fn, tally, started);
    },
  });
}
