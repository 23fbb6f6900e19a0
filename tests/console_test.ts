/// <reference lib="dom" />
// (The page functions below run in the browser: the DOM types check them.)
/**
 * The support console in a real browser: Debian's chromium (/usr/bin/chromium, installed by
 * tools/lib.sh like PostgreSQL; nothing downloads a browser) driven by puppeteer-core, headless,
 * against the gateway's /functions/v1/console/ signed in through the dev issuer's stand-in.
 *
 * Flows: support finds a user by email, creates an export, downloads it and the checksum computed in
 * the browser matches; support files an erasure, an admin in a second browser context approves it
 * by keyboard and runs it, the proof shows zero remaining rows; the audit page shows each step with
 * its actor; a normal user is refused and the page fetches no data; hostile names and reasons stay
 * text (no dialog, no injected element); every view fits 1280 px and 390 px wide.
 *
 * Screenshots of every view go to .local/test-results/console/ (with CONSOLE_SCREENSHOTS=docs/console,
 * there: how docs/console/*.png are made).
 */
import { assert, assertEquals, assertMatch } from "@std/assert";
import puppeteer from "puppeteer-core";
import type { Browser, BrowserContext, Page } from "puppeteer-core";
import { adminSql, createUser, randomUserId } from "./_support/db.ts";
import { bearer } from "./_support/auth.ts";
import { FUNCTIONS_URL, ROOT } from "./_support/env.ts";
import { isCurrent } from "../tools/gen_console_assets.ts";

const CONSOLE = `${FUNCTIONS_URL}/console/`;
const SHOTS = `${ROOT}${Deno.env.get("CONSOLE_SCREENSHOTS") || ".local/test-results/console"}`;
const HOSTILE_NAME = "<img src=x onerror=alert(1)>";
const HOSTILE_REASON = "TICKET-9 </script><script>alert(2)</script><b id=pwned>x</b>";

// Chromium's sandbox cannot start as root; anywhere else it stays on.
const asRoot = Deno.uid() === 0;
let browser: Browser | undefined;

async function theBrowser(): Promise<Browser> {
  browser ??= await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [...(asRoot ? ["--no-sandbox"] : []), "--disable-gpu", "--disable-dev-shm-usage"],
  });
  return browser;
}

Deno.test.afterAll(async () => {
  await browser?.close();
});

function browserTest(name: string, fn: () => Promise<void>) {
  Deno.test({ name, fn, sanitizeOps: false, sanitizeResources: false });
}

interface Session {
  context: BrowserContext;
  page: Page;
  dialogs: string[];
  /** Every URL the page requested. */
  requests: string[];
  errors: string[];
}

/** A fresh browser context (its own storage) signed in as `userId` through the dev stand-in. */
async function signIn(userId: string, width = 1280): Promise<Session> {
  const context = await (await theBrowser()).createBrowserContext();
  const page = await context.newPage();
  await page.setViewport({ width, height: 900 });
  const session: Session = { context, page, dialogs: [], requests: [], errors: [] };
  page.on("dialog", (dialog) => {
    session.dialogs.push(dialog.message());
    dialog.dismiss().catch(() => {});
  });
  page.on("request", (request) => session.requests.push(request.url()));
  page.on("pageerror", (error) => session.errors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error") session.errors.push(message.text());
  });
  await page.goto(CONSOLE);
  await page.waitForSelector("#dev-user-id");
  await page.type("#dev-user-id", userId);
  await page.click("#dev-sign-in-submit");
  await page.waitForSelector("#signed-in-as");
  return session;
}

async function close(session: Session) {
  assertEquals(session.dialogs, [], "no dialog may open");
  await session.context.close();
}

async function go(page: Page, hash: string) {
  await page.evaluate((h) => (location.hash = h), hash);
}

async function text(page: Page, selector: string): Promise<string> {
  await page.waitForSelector(selector);
  return await page.$eval(selector, (el) => el.textContent ?? "");
}

/** Waits until the element's text matches. */
async function waitForText(page: Page, selector: string, pattern: RegExp, timeout = 15_000) {
  await page.waitForFunction(
    (sel, source, flags) => {
      const el = document.querySelector(sel);
      return el !== null && new RegExp(source, flags).test(el.textContent ?? "");
    },
    { timeout },
    selector,
    pattern.source,
    pattern.flags,
  ).catch(async (error) => {
    const shown = await page.$eval("main", (el) => el.textContent ?? "").catch(() => "(no main)");
    throw new Error(
      `${selector} never matched ${pattern}: ${error.message}\nthe page showed: ${shown.slice(0, 1500)}`,
    );
  });
}

async function screenshot(page: Page, name: string) {
  await Deno.mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png` as `${string}.png`, fullPage: true });
}

/** A user with an email, a name, and data in every table a DSAR covers. */
async function subject(name: { first: string; last: string } = { first: "Grace", last: "Hopper" }) {
  const id = randomUserId("cs");
  const email = `${id.slice(5).toLowerCase()}@example.invalid`;
  await adminSql`insert into public.users (id, email, first_name, last_name)
                 values (${id}, ${email}, ${name.first}, ${name.last})`;
  const [project] = await adminSql`insert into public.projects (user_id, name) values (${id}, 'Console test')
                                   returning id`;
  await adminSql`insert into public.workspace_tabs (project_id, user_id, position, title, kind)
                 values (${project.id}, ${id}, 0, 'Tab', 'notes')`;
  return { id, email };
}

async function hex(bytes: ArrayBuffer): Promise<string> {
  return [...new Uint8Array(await crypto.subtle.digest("SHA-256", bytes))]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Searches on the Users view and waits for the user's card. */
async function findUser(page: Page, by: "email" | "id" | "name", q: string, userId: string) {
  await go(page, "#/users");
  await page.waitForSelector("#user-q");
  await page.select("#user-by", by);
  await page.type("#user-q", q);
  await page.click("#user-search button[type=submit]");
  await page.waitForSelector(`.user[data-user="${userId}"]`);
}

async function createRequest(
  page: Page,
  userId: string,
  kind: "export" | "erasure",
  reason: string,
  grace?: string,
) {
  const card = `.user[data-user="${userId}"]`;
  await page.click(`${card} .new-${kind}`);
  await page.waitForSelector(`${card} .ticket`);
  await page.type(`${card} .ticket`, reason);
  if (grace !== undefined) {
    await page.type(`${card} input[name=grace_hours]`, "0");
    await page.type(`${card} input[name=grace_reason]`, grace);
  }
  await page.click(`${card} .create-request`);
  await page.waitForFunction(() => location.hash.startsWith("#/request/"));
  await page.waitForSelector("#request-actions");
  return decodeURIComponent(await page.evaluate(() => location.hash.split("/")[2]));
}

Deno.test("console: assets.ts is current with static/ (run tools/gen_console_assets.ts after editing static/)", async () => {
  assert(await isCurrent(), "supabase/functions/console/assets.ts is stale");
});

browserTest(
  "console: the page and its sign-in settings carry a strict CSP, nosniff and no referrer",
  async () => {
    for (const path of ["", "app.js", "app.css", "config.json"]) {
      const response = await fetch(`${CONSOLE}${path}`);
      await response.body?.cancel();
      assertEquals(response.status, 200, path);
      const csp = response.headers.get("content-security-policy") ?? "";
      assertMatch(csp, /script-src 'self'(;|$)/, "scripts from the function only, nothing inline");
      assertMatch(csp, /style-src 'self'(;|$)/);
      assertMatch(csp, /frame-ancestors 'none'/);
      assertMatch(csp, /default-src 'none'/);
      assertEquals(response.headers.get("x-content-type-options"), "nosniff");
      assertEquals(response.headers.get("referrer-policy"), "no-referrer");
    }
    const bare = await fetch(`${FUNCTIONS_URL}/console`, { redirect: "manual" });
    await bare.body?.cancel();
    assertEquals(bare.status, 308);
    assertEquals(new URL(bare.headers.get("location")!, `${FUNCTIONS_URL}/console`).href, CONSOLE);
    const page = await (await fetch(CONSOLE)).text();
    assert(!/<script(?![^>]*\bsrc=)[^>]*>/.test(page), "no inline script in the page");
    assert(!/\sstyle=/.test(page), "no inline style in the page");
  },
);

browserTest(
  "console: support finds a user by email, creates an export, downloads it; the checksum matches",
  async () => {
    const support = await createUser("support", "cssup");
    const person = await subject();
    const s = await signIn(support);
    try {
      await screenshot(s.page, "queue");
      await findUser(s.page, "email", person.email.slice(0, 14).toUpperCase(), person.id);
      assertMatch(
        await text(s.page, `.user[data-user="${person.id}"]`),
        /1 \/ 1 \/ \d+/,
        "projects / tabs / history",
      );
      await screenshot(s.page, "users");
      const id = await createRequest(s.page, person.id, "export", "TICKET-1001");
      await s.page.click("#download");
      await waitForText(s.page, "#export-check", /matches|NOT/);
      assertEquals(await s.page.$eval("#export-check", (el) => el.getAttribute("data-ok")), "true");
      const shown = await text(s.page, "#export-sha256");
      const response = await fetch(`${FUNCTIONS_URL}/privacy/requests/${id}/export`, {
        headers: await bearer(support),
      });
      assertEquals(response.status, 200);
      assertEquals(shown, await hex(await response.arrayBuffer()), "the browser's sha256 is the file's");
      assertEquals(shown, response.headers.get("x-export-sha256"));
      await screenshot(s.page, "request-export");
      // The lookup was audited as a staff read without the email.
      const [lookup] = await adminSql`
      select details from audit.log where actor = ${support} and action = 'staff.users.searched' order by id desc limit 1`;
      assertEquals(lookup.details.by, "email");
      assert(!JSON.stringify(lookup.details).includes("@"), "no email in the audit details");
      assertEquals(s.errors, []);
    } finally {
      await close(s);
    }
  },
);

browserTest("console: support shortens the grace period of an open erasure, with a reason", async () => {
  const support = await createUser("support", "csgr");
  const person = await subject();
  const s = await signIn(support);
  try {
    await findUser(s.page, "id", person.id, person.id);
    const id = await createRequest(s.page, person.id, "erasure", "T-77");
    await s.page.click("#shorten-grace");
    await s.page.waitForSelector(".grace-form input[name=grace_hours]");
    await s.page.type(".grace-form input[name=grace_hours]", "1");
    await s.page.type(".grace-form input[name=grace_reason]", "T-77: the subject asked");
    await s.page.click(".grace-form .apply-grace");
    await waitForText(s.page, "main", /Grace period\s*1 h/);
    const [row] = await adminSql`select grace_period, grace_reason from privacy.requests where id = ${id}`;
    assertEquals([row.grace_period, row.grace_reason], ["01:00:00", "T-77: the subject asked"]);
    assertEquals(s.errors, []);
  } finally {
    await close(s);
  }
});

browserTest(
  "console: support files an erasure, an admin approves it by keyboard and runs it; proof shows zero rows; the audit page shows each step with its actor",
  async () => {
    const support = await createUser("support", "cssup");
    const admin = await createUser("admin", "csadm");
    const person = await subject();
    const s = await signIn(support);
    const a = await signIn(admin);
    try {
      await findUser(s.page, "id", person.id, person.id);
      const id = await createRequest(s.page, person.id, "erasure", HOSTILE_REASON, "customer insists");
      assertEquals(await text(s.page, "#request-reason"), HOSTILE_REASON, "the reason is shown as text");
      assertEquals(await s.page.$("#approve"), null, "support cannot approve");
      assertEquals(await s.page.$("#pwned"), null, "no injected element");

      await go(a.page, `#/request/${id}`);
      await a.page.waitForSelector("#approve");
      // Keyboard only: Tab from the top until the Approve button has focus, then Enter.
      await a.page.focus("body");
      let reached = false;
      for (let i = 0; i < 80 && !reached; i++) {
        await a.page.keyboard.press("Tab");
        reached = await a.page.evaluate(() => document.activeElement?.id === "approve");
      }
      assert(reached, "the tab order reaches the Approve action");
      await a.page.keyboard.press("Enter");
      await waitForText(a.page, "#request-actions", /Run due erasures/);
      await a.page.click("#request-actions #run-due");
      await waitForText(a.page, "#proof-summary", /Remaining rows: 0/);
      const [row] = await adminSql`select status, proof from privacy.requests where id = ${id}`;
      assertEquals(row.status, "completed");
      const [{ left }] =
        await adminSql`select count(*)::int as left from public.projects where user_id = ${person.id}`;
      assertEquals(left, 0);
      await screenshot(a.page, "request-erasure");

      await go(a.page, "#/audit");
      await a.page.waitForSelector("#audit-filters");
      await a.page.type("#audit-filters input[name=target_id]", id);
      await a.page.type("#audit-filters input[name=target_table]", "requests");
      await a.page.click("#audit-filters button[type=submit]");
      await waitForText(a.page, "main table", /dsar\.erasure\.completed/);
      const steps = await a.page.$$eval("main tbody tr", (rows) =>
        rows.map((r) => [
          r.querySelector(".audit-action")?.textContent ?? "",
          r.querySelector(".audit-actor")?.textContent ?? "",
        ]));
      const actorOf = (action: string) => steps.find(([a]) => a === action)?.[1];
      assertEquals(actorOf("dsar.erasure.requested"), support);
      assertEquals(actorOf("dsar.erasure.approved"), admin);
      assertEquals(actorOf("dsar.erasure.completed"), admin);
      await a.page.click("#verify");
      await waitForText(a.page, "#verify-ok", /chain intact|BROKEN/, 60_000);
      assertMatch(await text(a.page, "#verify-head"), /^\d+ [0-9a-f]{64}$/);
      await screenshot(a.page, "audit");
      assertEquals([...s.errors, ...a.errors], []);
    } finally {
      await close(s);
      await close(a);
    }
  },
);

browserTest("console: a normal user sees 'not authorized' and the page fetches no data", async () => {
  const user = await createUser("user", "csusr");
  const s = await signIn(user);
  try {
    await s.page.waitForSelector("#not-authorized");
    assertEquals(await s.page.$eval("#nav", (el) => (el as HTMLElement).hidden), true);
    const dataCalls = s.requests.filter((url) => /\/functions\/v1\/(privacy|admin)\//.test(url));
    assertEquals(dataCalls, [], "no privacy or admin endpoint was called");
    // And the endpoints refuse the token anyway.
    const direct = await fetch(`${FUNCTIONS_URL}/admin/users?email=de`, { headers: await bearer(user) });
    await direct.body?.cancel();
    assertEquals(direct.status, 403);
    await screenshot(s.page, "not-authorized");
  } finally {
    await close(s);
  }
});

browserTest(
  "console: a hostile name and reason stay inert text (no dialog, no injected element)",
  async () => {
    const support = await createUser("support", "cssup");
    // A unique tail keeps this person among the first results however many runs left theirs.
    const first = `${HOSTILE_NAME}${crypto.randomUUID().slice(0, 8)}`;
    const person = await subject({ first, last: "</script><b id=pwned>x</b>" });
    const s = await signIn(support);
    try {
      await findUser(s.page, "name", first, person.id);
      assertEquals(
        await text(s.page, `.user[data-user="${person.id}"] .user-name`),
        `${first} </script><b id=pwned>x</b>`,
      );
      const id = await createRequest(s.page, person.id, "export", HOSTILE_REASON);
      assertEquals(await text(s.page, "#request-reason"), HOSTILE_REASON);
      await go(s.page, "#/queue");
      await s.page.waitForSelector(`a[data-request="${id}"]`);
      const injected = await s.page.evaluate(() => ({
        img: document.querySelectorAll('img[src="x"]').length,
        bold: document.querySelectorAll("#pwned").length,
        scripts: [...document.scripts].map((script) => script.src),
      }));
      assertEquals(injected.img, 0);
      assertEquals(injected.bold, 0);
      assert(
        injected.scripts.every((src) => src.endsWith("/console/app.js")),
        `only app.js: ${injected.scripts}`,
      );
      assertEquals(s.dialogs, []);
    } finally {
      await close(s);
    }
  },
);

browserTest(
  "console: every view fits 1280 px and 390 px wide; the ops view refreshes; the staff page grants and revokes",
  async () => {
    const admin = await createUser("admin", "csadm");
    const target = await createUser("user", "cstgt");
    for (const width of [1280, 390]) {
      const s = await signIn(admin, width);
      try {
        for (const view of ["queue", "users", "audit", "ops", "staff"]) {
          await go(s.page, `#/${view}`);
          await s.page.waitForSelector("main h2");
          await s.page.waitForFunction(() =>
            !document.querySelector("main p.muted")?.textContent?.startsWith("Loading")
          );
          const overflow = await s.page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
          assert(overflow <= 1, `${view} at ${width} px overflows by ${overflow} px`);
          if (width === 390) await screenshot(s.page, `${view}-390`);
          else if (["ops", "staff"].includes(view)) await screenshot(s.page, view);
        }
      } finally {
        await close(s);
      }
    }

    const s = await signIn(admin);
    try {
      await go(s.page, "#/ops");
      await s.page.waitForSelector("#ops-updated");
      const first = await text(s.page, "#ops-updated");
      await s.page.waitForFunction(
        (before) => document.querySelector("#ops-updated")?.textContent !== before,
        { timeout: 15_000 },
        first,
      );
      assertMatch(await text(s.page, "#ops-cards"), /Migrations applied/);

      await go(s.page, "#/staff");
      await s.page.waitForSelector("#staff-grant");
      await s.page.type("#staff-grant input[name=user_id]", target);
      await s.page.select("#staff-grant select[name=role]", "support");
      await s.page.click("#staff-grant button[type=submit]");
      await s.page.waitForSelector(`.revoke[data-user="${target}"]`);
      assertEquals((await adminSql`select role from public.users where id = ${target}`)[0].role, "support");
      await s.page.click(`.revoke[data-user="${target}"]`);
      await s.page.waitForFunction((t) => !document.querySelector(`.revoke[data-user="${t}"]`), {}, target);
      assertEquals((await adminSql`select role from public.users where id = ${target}`)[0].role, "user");
      const changes = await adminSql`
      select actor, details ->> 'to' as "to" from audit.log
       where action = 'user.role.changed' and target_id = ${target} order by id`;
      assertEquals(changes.map((c) => [c.actor, c.to]), [[admin, "support"], [admin, "user"]]);
    } finally {
      await close(s);
    }
  },
);
