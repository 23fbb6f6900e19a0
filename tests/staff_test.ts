/**
 * Staff management and user lookup over HTTP (/admin/staff, /admin/users), the bootstrap command
 * (`npm run staff:grant`), and the console's sign-in settings (unit). The permission matrix comes
 * from the database (public.users.role), never from a token claim; bad input is a 400 that changes
 * nothing; every change and lookup is audited with its actor. The last-admin rule is proven in
 * pgTAP (supabase/tests/database/700_staff_console.test.sql), where the other admins can be demoted
 * inside a transaction.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "@std/assert";
import { adminSql, createUser, randomUserId } from "./_support/db.ts";
import { bearer } from "./_support/auth.ts";
import { call } from "./_support/http.ts";
import { DB_URL, GATEWAY_URL, ROOT } from "./_support/env.ts";
import { frontendApiHost, loadConsoleConfig, signInFrom } from "../supabase/functions/console/config.ts";
import { contentSecurityPolicy } from "../supabase/functions/console/app.ts";

function dbTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

async function roleOf(id: string): Promise<string | undefined> {
  return (await adminSql`select role from public.users where id = ${id}`)[0]?.role;
}

dbTest(
  "staff routes: anon 401, a user 403 (even claiming a role), support 403 on /staff but may look users up",
  async () => {
    const user = await createUser("user", "sfu");
    const support = await createUser("support", "sfs");
    for (const path of ["/staff", "/users?email=ab"]) {
      assertEquals((await call("admin", path)).status, 401, path);
      assertEquals(
        (await call("admin", path, { headers: await bearer(user, { claims: { role: "admin" } }) })).status,
        403,
      );
    }
    assertEquals((await call("admin", "/staff", { headers: await bearer(support) })).status, 403);
    const put = await call("admin", `/staff/${user}`, {
      method: "PUT",
      headers: await bearer(support),
      body: { role: "admin" },
    });
    assertEquals(put.status, 403);
    assertEquals(await roleOf(user), "user", "nothing changed");
    assertEquals((await call("admin", "/users?email=ab", { headers: await bearer(support) })).status, 200);
  },
);

dbTest(
  "staff routes: an admin lists, grants and revokes; each change is audited with the admin as actor",
  async () => {
    const admin = await createUser("admin", "sfa");
    const target = await createUser("user", "sft");
    const headers = await bearer(admin);
    const granted = await call("admin", `/staff/${target}`, {
      method: "PUT",
      headers,
      body: { role: "support" },
    });
    assertEquals(granted.status, 200, granted.text);
    assertEquals(granted.json, { user_id: target, role: "support", previous_role: "user" });
    const list = await call("admin", "/staff", { headers });
    assertEquals(list.status, 200);
    assert(
      list.json.data.some((row: { user_id: string; role: string }) =>
        row.user_id === target && row.role === "support"
      ),
    );
    const revoked = await call("admin", `/staff/${target}`, { method: "DELETE", headers });
    assertEquals(revoked.json.role, "user");
    assertEquals(await roleOf(target), "user");
    const entries = await adminSql`
    select actor, actor_kind, details from audit.log
     where action = 'user.role.changed' and target_id = ${target} order by id`;
    assertEquals(entries.map((e) => [e.actor, e.actor_kind, e.details.from, e.details.to]), [
      [admin, "staff", "user", "support"],
      [admin, "staff", "support", "user"],
    ]);
  },
);

dbTest("staff routes: bad input is a 400 and an unknown user a 404, and nothing changes", async () => {
  const admin = await createUser("admin", "sfa");
  const target = await createUser("user", "sft");
  const headers = await bearer(admin);
  for (
    const [method, path, body] of [
      ["PUT", `/staff/${target}`, { role: "owner" }],
      ["PUT", `/staff/${target}`, { role: "admin", extra: 1 }],
      ["PUT", `/staff/${target}`, {}],
      ["PUT", "/staff/not-a-clerk-id", { role: "support" }],
      ["DELETE", "/staff/user_bad%00id", undefined],
    ] as const
  ) {
    const answer = await call("admin", path, { method, headers, body });
    assertEquals(answer.status, 400, `${method} ${path} ${JSON.stringify(body)}: ${answer.text}`);
    assertEquals(answer.headers.get("content-type"), "application/problem+json");
  }
  const unknown = await call("admin", `/staff/${randomUserId("nobody")}`, {
    method: "PUT",
    headers,
    body: { role: "support" },
  });
  assertEquals(unknown.status, 404);
  assertEquals(await roleOf(target), "user");
  for (const query of ["", "?email=a", "?email=ab&id=user_x", "?phone=1", "?id=nope"]) {
    assertEquals((await call("admin", `/users${query}`, { headers })).status, 400, query);
  }
});

dbTest(
  "user lookup: by email prefix (any case), Clerk id or name, with counts, open requests and tombstone; audited without the email",
  async () => {
    const support = await createUser("support", "sfs");
    const id = randomUserId("lk");
    const email = `${id.slice(5).toLowerCase()}@example.invalid`;
    await adminSql`insert into public.users (id, email, first_name, last_name) values (${id}, ${email}, 'Lin', ${id})`;
    await adminSql`insert into public.projects (user_id, name) values (${id}, 'a'), (${id}, 'b')`;
    await adminSql`insert into privacy.requests (kind, subject_user_id, requested_as, requester_user_id, reason, status)
                 values ('export', ${id}, 'support', ${support}, 'T-1', 'received')`;
    const headers = await bearer(support);

    const byEmail = await call(
      "admin",
      `/users?email=${encodeURIComponent(email.slice(0, 12).toUpperCase())}`,
      { headers },
    );
    assertEquals(byEmail.status, 200, byEmail.text);
    const found = byEmail.json.data.find((row: { user_id: string }) => row.user_id === id);
    assertEquals(found.email, email);
    // Each project insert leaves a history event (the history trigger).
    assertEquals([found.projects, found.tabs, found.history], [2, 0, 2]);
    assertEquals(found.open_requests.map((r: { kind: string; status: string }) => [r.kind, r.status]), [[
      "export",
      "received",
    ]]);
    assertEquals(found.tombstoned_at, null);
    assertEquals([found.banned, found.locked], [false, false]);

    // Staff see Clerk's ban (issue 16): the flag the API refuses a suspended user by.
    await adminSql`update public.users set banned = true where id = ${id}`;
    const banned = await call("admin", `/users?id=${id}`, { headers });
    assertEquals(banned.json.data[0].banned, true);
    await adminSql`update public.users set banned = false where id = ${id}`;

    assertEquals(
      (await call("admin", `/users?id=${id}`, { headers })).json.data.map((r: { user_id: string }) =>
        r.user_id
      ),
      [id],
    );
    const byName = await call("admin", `/users?name=${encodeURIComponent(`lin ${id}`)}`, { headers });
    assertEquals(byName.json.data.map((r: { user_id: string }) => r.user_id), [id]);
    assertEquals((await call("admin", "/users?email=%25%25", { headers })).json.data, [], "% is literal");

    // A deleted user: only the tombstone is left, and the lookup by id still finds it.
    const gone = randomUserId("gone");
    await adminSql`insert into private.clerk_user_tombstones (user_id, deleted_at) values (${gone}, now())`;
    const tomb = await call("admin", `/users?id=${gone}`, { headers });
    assertEquals(tomb.json.data.length, 1);
    assertEquals(tomb.json.data[0].role, null);
    assert(tomb.json.data[0].tombstoned_at);

    const audited = await adminSql`
    select details from audit.log where actor = ${support} and action = 'staff.users.searched' order by id`;
    assertEquals(audited.map((e) => e.details.by), ["email", "id", "id", "name", "email", "id"]);
    assert(audited.every((e) => !JSON.stringify(e.details).includes("@")), "no email in any lookup entry");
    assertEquals(audited[0].details.ids.includes(id), true);
  },
);

async function staffGrant(...args: string[]) {
  const output = await new Deno.Command(`${ROOT}node_modules/.bin/deno`, {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-sys",
      `${ROOT}tools/staff_grant.ts`,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

dbTest(
  "npm run staff:grant: bootstraps an admin who never signed in, audited with the operator named; bad input changes nothing",
  async () => {
    const id = randomUserId("boot");
    const granted = await staffGrant(id, "admin", "--db-url", DB_URL, "--operator", "ops.tester");
    assertEquals(granted.code, 0, granted.stderr);
    assertMatch(granted.stdout, /\(new user row\) -> admin/);
    assert(!granted.stdout.includes("postgres:postgres"), "the password is masked");
    assertEquals(await roleOf(id), "admin");
    const [entry] = await adminSql`
    select actor, actor_kind, details from audit.log where action = 'user.role.changed' and target_id = ${id}`;
    assertEquals([entry.actor, entry.actor_kind, entry.details.to], [
      "operator:ops.tester",
      "database",
      "admin",
    ]);

    for (
      const args of [
        [id, "owner", "--db-url", DB_URL, "--operator", "x"],
        ["not-an-id", "admin", "--db-url", DB_URL, "--operator", "x"],
        [id, "user", "--db-url", DB_URL, "--operator", "someone@example.com"],
        [id],
        [id, "user", "--db-url", DB_URL, "--operator", "x", "--bogus"],
      ]
    ) {
      const refused = await staffGrant(...args);
      assertEquals(refused.code, 2, `${args.join(" ")}: ${refused.stdout}`);
      assertMatch(refused.stderr, /^\[staff_grant\] error: /);
    }
    assertEquals(await roleOf(id), "admin", "nothing changed");
    // Revoked again so the test leaves no extra admin behind.
    assertEquals((await staffGrant(id, "user", "--db-url", DB_URL, "--operator", "ops.tester")).code, 0);
  },
);

Deno.test("console settings: the Frontend API host comes from the publishable key; a console without sign-in does not start", () => {
  const key = (host: string, kind = "live") => `pk_${kind}_${btoa(`${host}$`)}`;
  assertEquals(frontendApiHost(key("clerk.example.com")), "clerk.example.com");
  assertEquals(
    frontendApiHost(key("happy-cat-12.clerk.accounts.dev", "test")),
    "happy-cat-12.clerk.accounts.dev",
  );
  assertEquals(frontendApiHost(`pk_live_${btoa("clerk.example.com")}`), null, "no trailing $");
  assertEquals(frontendApiHost(key("evil.com/x")), null);
  assertEquals(frontendApiHost("sk_live_abc"), null);

  const production = loadConsoleConfig({ CLERK_PUBLISHABLE_KEY: key("clerk.example.com") });
  const signIn = signInFrom(production);
  assertEquals(signIn, {
    mode: "clerk",
    publishableKey: key("clerk.example.com"),
    frontendApi: "https://clerk.example.com",
  });
  const csp = contentSecurityPolicy(signIn);
  assertMatch(csp, /script-src 'self' https:\/\/clerk\.example\.com https:\/\/challenges\.cloudflare\.com;/);
  assertMatch(csp, /connect-src 'self' https:\/\/clerk\.example\.com;/);
  assertMatch(csp, /frame-ancestors 'none'/);
  assert(!/unsafe-eval/.test(csp));

  assertThrows(() => loadConsoleConfig({}), Error, "CLERK_PUBLISHABLE_KEY");
  assertThrows(
    () => loadConsoleConfig({ CLERK_PUBLISHABLE_KEY: "pk_live_nothing" }),
    Error,
    "CLERK_PUBLISHABLE_KEY",
  );
  assertThrows(
    () => loadConsoleConfig({ CONSOLE_DEV_SIGN_IN_URL: "http://example.com/clerk/dev/sign-in" }),
    Error,
    "CONSOLE_DEV_SIGN_IN_URL",
  );
  // Both set: production wins, the stand-in is never offered.
  const both = loadConsoleConfig({
    CLERK_PUBLISHABLE_KEY: key("clerk.example.com"),
    CONSOLE_DEV_SIGN_IN_URL: "http://127.0.0.1:1/clerk/dev/sign-in",
  });
  assertEquals(signInFrom(both).mode, "clerk");
});

dbTest(
  "dev sign-in stand-in (local gateway only): lists the seeded users, mints a 60 s token, refuses what is not a Clerk id",
  async () => {
    const url = `${GATEWAY_URL}/clerk/dev/sign-in`;
    const listed = await (await fetch(url)).json();
    assert(listed.users.some((user: { user_id: string }) => user.user_id === "user_seedDemoSupport"));
    for (const body of ['{"user_id":"nope"}', "{}", "not json", '{"user_id":"user_a\\u0000"}']) {
      const refused = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await refused.body?.cancel();
      assertEquals(refused.status, 400, body);
    }
    const user = await createUser("user", "sfd");
    const minted = await (await fetch(url, { method: "POST", body: JSON.stringify({ user_id: user }) }))
      .json();
    assertEquals(minted.expires_in, 60);
    const me = await call("api", "/me", { headers: { authorization: `Bearer ${minted.token}` } });
    assertEquals(me.status, 200);
    assertEquals(me.json.id, user);
  },
);
