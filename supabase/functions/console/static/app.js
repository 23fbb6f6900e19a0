// Support console (docs/CONSOLE.md). Plain ES module, no framework, no build step.
//
// Rules this file keeps:
// - every string that comes from a user or the server is rendered as text (textContent, text
//   nodes, setAttribute): nothing here assigns innerHTML or builds markup from strings;
// - every call takes a fresh session token (Clerk's session.getToken(), or the dev stand-in), held
//   in memory only: nothing is written to localStorage or sessionStorage;
// - the page decides nothing: the privacy and admin functions check the session and the database
//   role on every call; the page only hides what the caller could not do anyway.

const FUNCTIONS = new URL("../", location.href);
const OPEN_STATUSES = ["received", "scheduled", "in_progress", "failed"];
const DAY_MS = 86_400_000;
const OPS_REFRESH_MS = 5_000;

let auth = null; // { userId, getToken(), signOut() }
let me = null; // the caller's user row (GET /api/me)
let timers = [];

// --- DOM helpers -------------------------------------------------------------------------------

/** An element with attributes and children; strings become text nodes, never markup. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "value") el.value = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const main = () => document.getElementById("main");

/**
 * Each view starts a new generation; a view whose data arrive after another view started (the user
 * moved on) shows nothing.
 */
let generation = 0;
const begin = () => ++generation;

function show(...children) {
  showIf(generation, ...children);
}

/** Replaces an element's children, unless another view started meanwhile. */
function fill(token, el, ...children) {
  if (token !== generation) return;
  el.replaceChildren();
  append(el, children);
}

function showIf(token, ...children) {
  if (token !== generation) return;
  const el = main();
  el.replaceChildren();
  append(el, children);
}

function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message;
  setTimeout(() => {
    if (el.textContent === message) el.textContent = "";
  }, 4000);
}

function when(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime())
    ? String(value)
    : `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function table(headers, rows, rowProps = () => ({})) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      h("thead", {}, h("tr", {}, headers.map((label) => h("th", { scope: "col" }, label)))),
      h("tbody", {}, rows.map((cells, i) => h("tr", rowProps(i), cells.map((cell) => h("td", {}, cell))))),
    ),
  );
}

function fields(pairs) {
  return h(
    "dl",
    { class: "fields" },
    pairs.map(([label, value]) => [h("dt", {}, label), h("dd", {}, value ?? "—")]),
  );
}

function errorBox(error) {
  return h("p", { class: "error", role: "alert" }, describe(error));
}

function describe(error) {
  if (error instanceof ApiError) {
    const details = (error.problem?.errors ?? []).map((e) =>
      `${e.path ?? e.field ?? ""} ${e.message ?? ""}`.trim()
    );
    return [`${error.status} ${error.problem?.title ?? "Error"}: ${error.problem?.detail ?? ""}`, ...details]
      .join(
        " — ",
      );
  }
  return String(error?.message ?? error);
}

// --- API ---------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Calls a function with a fresh session token; answers the JSON body (or the Response, raw). */
async function api(fn, path, { method = "GET", body, raw = false } = {}) {
  const headers = { authorization: `Bearer ${await auth.getToken()}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(new URL(`${fn}${path}`, FUNCTIONS), {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== "") search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

// --- Sign-in -----------------------------------------------------------------------------------

/** Development and tests: pick a seeded user (or type a Clerk id); tokens from the dev issuer. */
async function devSignIn(config) {
  const { users } = await (await fetch(config.signInUrl, { cache: "no-store" })).json();
  return new Promise((resolve) => {
    const pick = h(
      "select",
      { id: "dev-user", name: "user" },
      users.map((user) => h("option", { value: user.user_id }, user.label)),
    );
    const typed = h("input", {
      id: "dev-user-id",
      name: "user_id",
      placeholder: "user_…",
      autocomplete: "off",
    });
    const form = h(
      "form",
      {
        class: "card",
        id: "dev-sign-in",
        onsubmit: (event) => {
          event.preventDefault();
          const userId = typed.value.trim() || pick.value;
          resolve({
            userId,
            async getToken() {
              const answer = await fetch(config.signInUrl, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ user_id: userId }),
                cache: "no-store",
              });
              if (!answer.ok) throw new Error("the dev sign-in refused this user id");
              return (await answer.json()).token;
            },
            signOut() {
              location.reload();
            },
          });
        },
      },
      h("h2", {}, "Sign in (development)"),
      h("p", { class: "muted" }, "The local dev issuer stands in for Clerk. Production signs in with Clerk."),
      h(
        "div",
        { class: "row" },
        h("label", {}, "Seeded user", pick),
        h("label", {}, "or a Clerk user id", typed),
      ),
      h("button", { type: "submit", id: "dev-sign-in-submit" }, "Sign in"),
    );
    show(form);
  });
}

/** Production: Clerk's browser SDK from the instance's Frontend API. */
async function clerkSignIn(config) {
  await new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = `${config.frontendApi}/npm/@clerk/clerk-js@5/dist/clerk.browser.js`;
    script.crossOrigin = "anonymous";
    script.async = true;
    script.setAttribute("data-clerk-publishable-key", config.publishableKey);
    script.addEventListener("load", resolve);
    script.addEventListener("error", () => reject(new Error("Clerk could not be loaded")));
    document.head.append(script);
  });
  const clerk = globalThis.Clerk;
  await clerk.load();
  if (!clerk.user) {
    const mount = h("div", { id: "clerk-sign-in" });
    show(mount);
    clerk.mountSignIn(mount);
    await new Promise((resolve) => clerk.addListener(({ user }) => user && resolve()));
    clerk.unmountSignIn(mount);
  }
  return {
    userId: clerk.user.id,
    // Clerk keeps the session's short-lived token in memory and refreshes it; never stored by us.
    getToken: async () => {
      const token = await clerk.session?.getToken();
      if (!token) throw new Error("the Clerk session has ended: sign in again");
      return token;
    },
    signOut: () => clerk.signOut().then(() => location.reload()),
  };
}

// --- Views -------------------------------------------------------------------------------------

const isAdmin = () => me?.role === "admin";

function daysLeft(request) {
  return Math.ceil((new Date(request.due_at).getTime() - Date.now()) / DAY_MS);
}

function urgency(request) {
  if (!OPEN_STATUSES.includes(request.status)) return "";
  if (request.overdue_at || daysLeft(request) < 0) return "overdue";
  if (daysLeft(request) <= 3) return "due-soon";
  return "";
}

function statusBadge(status) {
  const tone = status === "completed"
    ? "good"
    : status === "failed"
    ? "bad"
    : status === "cancelled"
    ? ""
    : "warn";
  return h("span", { class: `badge ${tone}` }, status);
}

const queueState = { filters: { status: "", kind: "", subject_user_id: "" }, cursors: [] };

async function viewQueue() {
  const token = begin();
  const filters = queueState.filters;
  const form = h(
    "form",
    {
      class: "filters",
      id: "queue-filters",
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(form);
        queueState.filters = {
          status: data.get("status"),
          kind: data.get("kind"),
          subject_user_id: String(data.get("subject_user_id")).trim(),
        };
        queueState.cursors = [];
        viewQueue();
      },
    },
    h(
      "label",
      {},
      "Status",
      h(
        "select",
        { name: "status" },
        ["", "received", "scheduled", "in_progress", "completed", "failed", "cancelled"].map((s) =>
          h("option", { value: s, selected: s === filters.status }, s || "any")
        ),
      ),
    ),
    h(
      "label",
      {},
      "Kind",
      h(
        "select",
        { name: "kind" },
        ["", "export", "erasure"].map((k) =>
          h("option", { value: k, selected: k === filters.kind }, k || "any")
        ),
      ),
    ),
    h(
      "label",
      {},
      "Subject",
      h("input", { name: "subject_user_id", value: filters.subject_user_id, placeholder: "user_…" }),
    ),
    h("button", { type: "submit" }, "Filter"),
    isAdmin()
      ? h(
        "button",
        { type: "button", class: "secondary", id: "run-due", onclick: runDue },
        "Run due erasures",
      )
      : null,
  );
  // The form is shown once; results go below it (re-attaching it would take the focus from a field
  // someone is typing in).
  const results = h("div", { id: "queue-results" }, h("p", { class: "muted" }, "Loading…"));
  showIf(token, h("h2", {}, "DSAR queue"), form, results);
  try {
    const cursor = queueState.cursors.at(-1);
    const page = await api("privacy", `/requests${query({ ...filters, limit: 50, cursor })}`);
    const rows = page.data.map((r) => [
      statusBadge(r.status),
      r.kind,
      h("span", { class: "mono" }, r.subject_user_id),
      when(r.received_at),
      when(r.due_at),
      OPEN_STATUSES.includes(r.status) ? String(daysLeft(r)) : "—",
      h("a", { href: `#/request/${encodeURIComponent(r.id)}`, "data-request": r.id }, "Open"),
    ]);
    const pager = h(
      "div",
      { class: "row" },
      queueState.cursors.length > 0
        ? h("button", {
          type: "button",
          class: "secondary",
          onclick: () => {
            queueState.cursors = [];
            viewQueue();
          },
        }, "Newest")
        : null,
      page.next_cursor
        ? h("button", {
          type: "button",
          class: "secondary",
          onclick: () => {
            queueState.cursors.push(page.next_cursor);
            viewQueue();
          },
        }, "Next page")
        : null,
    );
    fill(
      token,
      results,
      rows.length === 0 ? h("p", { class: "muted" }, "No requests match.") : table(
        ["Status", "Kind", "Subject", "Received", "Due", "Days left", ""],
        rows,
        (i) => ({ class: urgency(page.data[i]), "data-status": page.data[i].status }),
      ),
      h("p", { class: "muted" }, "Red: overdue. Yellow: due within 3 days."),
      pager,
    );
  } catch (error) {
    fill(token, results, errorBox(error));
  }
}

async function runDue() {
  try {
    const result = await api("privacy", "/erasures/run", { method: "POST", body: {} });
    const erasures = result.erasures;
    const summary = typeof erasures === "object" && erasures !== null
      ? JSON.stringify(erasures)
      : String(erasures);
    toast(`Due erasures run: ${summary}`);
    route();
  } catch (error) {
    toast(describe(error));
  }
}

/** Per-table counts: a number (export), or {rows, action} (erasure: delete, cascade or retain). */
function countsTable(counts) {
  const entries = Object.entries(counts ?? {});
  if (entries.length === 0) return h("p", { class: "muted" }, "—");
  const detailed = entries.some(([, value]) => typeof value === "object" && value !== null);
  return table(
    detailed ? ["Table", "Rows", "Action"] : ["Table", "Rows"],
    entries.map(([name, value]) => {
      const cells = [h("span", { class: "mono" }, name)];
      if (typeof value === "object" && value !== null) {
        cells.push(String(value.rows ?? "—"), String(value.action ?? "—"));
      } else cells.push(String(value), ...(detailed ? ["—"] : []));
      return cells;
    }),
  );
}

async function viewRequest(id) {
  const token = begin();
  showIf(token, h("h2", {}, "Request"), h("p", { class: "muted" }, "Loading…"));
  let r;
  try {
    r = await api("privacy", `/requests/${encodeURIComponent(id)}`);
  } catch (error) {
    showIf(token, h("h2", {}, "Request"), errorBox(error));
    return;
  }
  const actions = h("div", { class: "row", id: "request-actions" });
  const output = h("div", { id: "request-output" });
  const act = (label, path, props = {}) =>
    h("button", {
      type: "button",
      ...props,
      onclick: async () => {
        try {
          await api("privacy", path, { method: "POST", body: path.endsWith("/run") ? {} : undefined });
          toast(`${label}: done`);
          viewRequest(id);
        } catch (error) {
          output.replaceChildren(errorBox(error));
        }
      },
    }, label);
  const canApprove = isAdmin() && r.kind === "erasure" && r.status === "received" && r.approval_required &&
    !r.approved_at && r.requester_user_id !== auth.userId;
  if (canApprove) actions.append(act("Approve", `/requests/${r.id}/approve`, { id: "approve" }));
  if (["received", "scheduled", "failed"].includes(r.status)) {
    actions.append(act("Cancel", `/requests/${r.id}/cancel`, { id: "cancel", class: "danger" }));
  }
  if (r.kind === "erasure" && ["received", "scheduled"].includes(r.status)) {
    actions.append(
      h("button", {
        type: "button",
        id: "shorten-grace",
        class: "secondary",
        onclick: () => graceForm(output, r, () => viewRequest(id)),
      }, "Shorten grace…"),
    );
  }
  if (isAdmin() && r.kind === "erasure" && r.status === "scheduled") {
    actions.append(act("Run due erasures", "/erasures/run", { id: "run-due", class: "secondary" }));
  }
  if (r.export_url) {
    actions.append(
      h("button", { type: "button", id: "download", onclick: () => download(r, output) }, "Download export"),
    );
  }
  const proof = r.proof
    ? [
      h("h3", {}, "Proof of erasure"),
      h(
        "p",
        { id: "proof-summary" },
        `Remaining rows: ${Object.values(r.proof.remaining ?? {}).reduce((a, b) => a + Number(b), 0)}`,
        r.proof.tombstone === undefined ? "" : ` · tombstone: ${r.proof.tombstone}`,
      ),
      countsTable(r.proof.remaining),
      h("pre", { id: "proof" }, JSON.stringify(r.proof, null, 2)),
    ]
    : [];
  showIf(
    token,
    h("h2", {}, `${r.kind === "export" ? "Export" : "Erasure"} request`),
    h(
      "div",
      { class: `card ${urgency(r)}` },
      fields([
        ["Id", h("span", { class: "mono" }, r.id)],
        ["Status", statusBadge(r.status)],
        ["Subject", h("span", { class: "mono" }, r.subject_user_id)],
        ["Requested as", r.requested_as],
        ["Requester", r.requester_user_id],
        ["Ticket / reason", h("span", { id: "request-reason" }, r.reason ?? "—")],
        ["Received", when(r.received_at)],
        ["Due", `${when(r.due_at)}${OPEN_STATUSES.includes(r.status) ? ` (${daysLeft(r)} days left)` : ""}`],
        ["Overdue since", when(r.overdue_at)],
        [
          "Approval",
          r.approval_required
            ? (r.approved_at
              ? `approved by ${r.approved_by} at ${when(r.approved_at)}`
              : "waiting for an admin")
            : "not needed",
        ],
        [
          "Grace period",
          r.grace_period_seconds === null ? "—" : `${Math.round(r.grace_period_seconds / 3600)} h`,
        ],
        ["Grace reason", r.grace_reason],
        ["Scheduled for", when(r.scheduled_for)],
        ["Completed", when(r.completed_at)],
        ["Attempts", String(r.attempts ?? 0)],
        ["Error", r.error],
        ["Cancelled", r.cancelled_at ? `${when(r.cancelled_at)} by ${r.cancelled_by}` : null],
        ["Deleted at Clerk", r.clerk_delete_required ? when(r.clerk_deleted_at) : "not needed"],
      ]),
    ),
    actions,
    output,
    h("h3", {}, "Row counts"),
    countsTable(r.row_counts),
    proof,
  );
}

function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Downloads the export, checks its sha256 in the browser against the server's, offers the file. */
async function download(r, output) {
  output.replaceChildren(h("p", { class: "muted" }, "Downloading…"));
  try {
    const response = await api("privacy", `/requests/${r.id}/export`, { raw: true });
    const expected = response.headers.get("x-export-sha256") ?? "";
    const bytes = await response.arrayBuffer();
    const actual = hex(await crypto.subtle.digest("SHA-256", bytes));
    const matches = actual === expected.toLowerCase();
    const link = h("a", {
      href: URL.createObjectURL(new Blob([bytes], { type: "application/json" })),
      download: `dsar-export-${r.id}.json`,
      id: "export-file",
    }, "Save the export file");
    output.replaceChildren(
      h(
        "div",
        { class: "card" },
        fields([
          ["SHA-256 (computed here)", h("span", { class: "mono", id: "export-sha256" }, actual)],
          ["SHA-256 (server)", h("span", { class: "mono" }, expected || "—")],
          ["Bytes", String(bytes.byteLength)],
          [
            "Checksum",
            h(
              "span",
              { id: "export-check", class: matches ? "ok" : "error", "data-ok": String(matches) },
              matches ? "matches" : "DOES NOT MATCH: do not send this file",
            ),
          ],
        ]),
        link,
      ),
    );
  } catch (error) {
    output.replaceChildren(errorBox(error));
  }
}

function viewUsers() {
  const token = begin();
  const results = h("div", { id: "user-results" });
  const form = h(
    "form",
    {
      class: "filters",
      id: "user-search",
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        results.replaceChildren(h("p", { class: "muted" }, "Searching…"));
        try {
          const by = String(data.get("by"));
          const found = await api("admin", `/users${query({ [by]: String(data.get("q")).trim() })}`);
          results.replaceChildren(
            found.data.length === 0
              ? h("p", { class: "muted" }, "Nobody found.")
              : h("div", {}, found.data.map(userCard)),
          );
        } catch (error) {
          results.replaceChildren(errorBox(error));
        }
      },
    },
    h(
      "label",
      {},
      "Search by",
      h(
        "select",
        { name: "by", id: "user-by" },
        [["email", "email (prefix)"], ["id", "Clerk id"], ["name", "name (prefix)"]].map(
          ([value, label]) => h("option", { value }, label),
        ),
      ),
    ),
    h(
      "label",
      {},
      "Search",
      h("input", { name: "q", id: "user-q", required: true, minlength: 2, autocomplete: "off" }),
    ),
    h("button", { type: "submit" }, "Find"),
  );
  showIf(token, h("h2", {}, "Users"), form, results);
}

/** Clerk's ban and lock as the API applies them: a suspended user is refused everywhere. */
function accountState(user) {
  if (user.role === null) return "—";
  if (user.banned) return "banned (refused by the API)";
  if (user.locked && (user.locked_until === null || new Date(user.locked_until) > new Date())) {
    return `locked${user.locked_until ? ` until ${when(user.locked_until)}` : ""} (refused by the API)`;
  }
  return "active";
}

function userCard(user) {
  const name = user.display_name ?? [user.first_name, user.last_name].filter(Boolean).join(" ");
  const panel = h("div", {});
  const card = h(
    "div",
    { class: "card user", "data-user": user.user_id },
    h("h3", { class: "user-name" }, name || "(no name)"),
    fields([
      ["Clerk id", h("span", { class: "mono" }, user.user_id)],
      ["Email", user.email],
      ["Role", user.role ?? "—"],
      ["Created", when(user.created_at)],
      ["Last active", when(user.last_active_at)],
      ["Projects / tabs / history", `${user.projects} / ${user.tabs} / ${user.history}`],
      [
        "Open requests",
        user.open_requests.length === 0 ? "none" : h(
          "span",
          {},
          user.open_requests.map((r) => [
            h(
              "a",
              { href: `#/request/${encodeURIComponent(r.id)}` },
              `${r.kind} (${r.status}, due ${when(r.due_at)})`,
            ),
            " ",
          ]),
        ),
      ],
      ["Tombstone", user.tombstoned_at ? `deleted at Clerk ${when(user.tombstoned_at)}` : "none"],
      ["Username", user.username ?? "—"],
      ["Email verified", user.email_verified === null ? "—" : user.email_verified ? "yes" : "no"],
      ["Clerk account", accountState(user)],
    ]),
    user.role === null ? null : h(
      "div",
      { class: "row" },
      h(
        "button",
        { type: "button", class: "new-export", onclick: () => requestForm(panel, user, "export") },
        "New export…",
      ),
      h("button", {
        type: "button",
        class: "new-erasure danger",
        onclick: () => requestForm(panel, user, "erasure"),
      }, "New erasure…"),
    ),
    panel,
  );
  return card;
}

/** Shorten an existing erasure's grace period: hours (shorter than now) and a required reason. */
function graceForm(panel, r, done) {
  const output = h("div", {});
  const current = Math.round((r.grace_period_seconds ?? 0) / 3600);
  const form = h(
    "form",
    {
      class: "filters grace-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const body = {
          grace_hours: Number(String(data.get("grace_hours") ?? "").trim()),
          grace_reason: String(data.get("grace_reason") ?? "").trim(),
        };
        try {
          await api("privacy", `/requests/${encodeURIComponent(r.id)}/grace`, { method: "POST", body });
          toast("Grace period shortened");
          done();
        } catch (error) {
          output.replaceChildren(errorBox(error));
        }
      },
    },
    h(
      "label",
      {},
      `New grace in hours (less than ${current})`,
      h("input", { name: "grace_hours", type: "number", min: 0, step: 1, required: true }),
    ),
    h(
      "label",
      {},
      "Reason (required)",
      h("input", { name: "grace_reason", required: true, maxlength: 500 }),
    ),
    h("button", { type: "submit", class: "apply-grace" }, "Shorten grace"),
  );
  panel.replaceChildren(form, output);
  form.querySelector("input").focus();
}

function requestForm(panel, user, kind) {
  const output = h("div", {});
  const grace = kind === "erasure"
    ? [
      h(
        "label",
        {},
        "Grace hours (shorten only)",
        h("input", { name: "grace_hours", type: "number", min: 0, step: 1, placeholder: "default (7 days)" }),
      ),
      h("label", {}, "Reason for a shorter grace", h("input", { name: "grace_reason", maxlength: 500 })),
    ]
    : [];
  const form = h(
    "form",
    {
      class: "filters request-form",
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const body = { kind, subject_user_id: user.user_id, reason: String(data.get("reason")).trim() };
        const hours = String(data.get("grace_hours") ?? "").trim();
        if (hours !== "") {
          body.grace_hours = Number(hours);
          body.grace_reason = String(data.get("grace_reason") ?? "").trim() || undefined;
        }
        try {
          const created = await api("privacy", "/requests", { method: "POST", body });
          location.hash = `#/request/${encodeURIComponent(created.id)}`;
        } catch (error) {
          output.replaceChildren(errorBox(error));
        }
      },
    },
    h(
      "label",
      {},
      "Ticket reference (required)",
      h("input", { name: "reason", required: true, maxlength: 500, class: "ticket" }),
    ),
    grace,
    h("button", { type: "submit", class: "create-request" }, `Create ${kind}`),
  );
  panel.replaceChildren(form, output);
  form.querySelector("input").focus();
}

const auditState = { filters: {}, cursors: [] };

async function viewAudit() {
  const token = begin();
  const f = auditState.filters;
  const input = (name, label, props = {}) =>
    h("label", {}, label, h("input", { name, value: f[name] ?? "", ...props }));
  const verifyOut = h("div", { id: "verify-result" });
  const form = h(
    "form",
    {
      class: "filters",
      id: "audit-filters",
      onsubmit: (event) => {
        event.preventDefault();
        const data = new FormData(form);
        const next = {};
        for (const key of ["actor", "action", "target_table", "target_id"]) {
          const value = String(data.get(key)).trim();
          if (value) next[key] = value;
        }
        for (const key of ["from", "to"]) {
          const value = String(data.get(key));
          if (value) next[key] = new Date(value).toISOString();
        }
        auditState.filters = next;
        auditState.cursors = [];
        viewAudit();
      },
    },
    input("actor", "Actor"),
    input("action", "Action (or prefix.*)"),
    input("target_table", "Target table"),
    input("target_id", "Target id"),
    h("label", {}, "From", h("input", { name: "from", type: "datetime-local" })),
    h("label", {}, "To", h("input", { name: "to", type: "datetime-local" })),
    h("button", { type: "submit" }, "Filter"),
    h(
      "button",
      { type: "button", class: "secondary", id: "verify", onclick: () => verify(verifyOut) },
      "Verify chain",
    ),
  );
  const results = h("div", { id: "audit-results" }, h("p", { class: "muted" }, "Loading…"));
  showIf(token, h("h2", {}, "Audit log"), form, verifyOut, results);
  try {
    const page = await api("admin", `/audit${query({ ...f, limit: 25, cursor: auditState.cursors.at(-1) })}`);
    const detail = h("div", { id: "audit-detail" });
    const rows = page.data.map((e) => [
      when(e.occurred_at),
      h("span", { class: "mono audit-actor" }, e.actor),
      e.actor_kind,
      h("span", { class: "mono audit-action" }, e.action),
      h(
        "span",
        { class: "mono" },
        [e.target_schema, e.target_table].filter(Boolean).join("."),
        e.target_id ? ` ${e.target_id}` : "",
      ),
      h("button", {
        type: "button",
        class: "secondary",
        onclick: () =>
          detail.replaceChildren(
            h(
              "div",
              { class: "card" },
              h("h3", {}, `Entry ${e.id}`),
              h("pre", {}, JSON.stringify(e, null, 2)),
            ),
          ),
      }, "Details"),
    ]);
    fill(
      token,
      results,
      rows.length === 0
        ? h("p", { class: "muted" }, "No entries match.")
        : table(["Time", "Actor", "Kind", "Action", "Target", ""], rows),
      h(
        "div",
        { class: "row" },
        auditState.cursors.length
          ? h("button", {
            type: "button",
            class: "secondary",
            onclick: () => ((auditState.cursors = []), viewAudit()),
          }, "Newest")
          : null,
        page.next_cursor
          ? h("button", {
            type: "button",
            class: "secondary",
            onclick: () => (auditState.cursors.push(page.next_cursor), viewAudit()),
          }, "Older")
          : null,
      ),
      detail,
    );
  } catch (error) {
    fill(token, results, errorBox(error));
  }
}

async function verify(out) {
  out.replaceChildren(h("p", { class: "muted" }, "Verifying…"));
  try {
    const v = await api("admin", "/audit/verify");
    out.replaceChildren(
      h(
        "div",
        { class: "card" },
        h(
          "p",
          {},
          h(
            "span",
            { class: `badge ${v.ok ? "good" : "bad"}`, id: "verify-ok" },
            v.ok ? "chain intact" : "CHAIN BROKEN",
          ),
        ),
        fields([
          ["Entries checked", String(v.entries_checked)],
          ["First bad entry", v.first_bad_id],
          ["Problem", v.problem],
          ["Head", h("span", { class: "mono", id: "verify-head" }, `${v.head.id} ${v.head.hash}`)],
          ["Sealed through", v.sealed_through],
          ["Not sealed yet", String(v.unsealed)],
          ["Took", `${v.duration_ms} ms`],
        ]),
      ),
    );
  } catch (error) {
    out.replaceChildren(errorBox(error));
  }
}

function card(label, value, tone = "") {
  return h(
    "div",
    { class: `card ${tone}` },
    h("div", { class: "muted" }, label),
    h("div", { class: "stat" }, String(value)),
  );
}

async function viewOps() {
  const token = begin();
  const render = async () => {
    try {
      const [jobs, migrations] = await Promise.all([api("admin", "/jobs"), api("admin", "/migrations")]);
      if (currentView !== "ops") return;
      const unhealthy = jobs.data.filter((j) => j.problems.length > 0).length;
      showIf(
        token,
        h("h2", {}, "Operations"),
        h(
          "p",
          { class: "muted", id: "ops-updated" },
          `Updated ${new Date().toISOString().slice(11, 19)} UTC · refreshes every ${
            OPS_REFRESH_MS / 1000
          } s`,
        ),
        h(
          "div",
          { class: "cards", id: "ops-cards" },
          card("Jobs healthy", jobs.data.length - unhealthy),
          card("Jobs with problems", unhealthy, unhealthy ? "bad" : ""),
          card("Migrations applied", migrations.summary.applied),
          card("Migrations pending", migrations.summary.pending, migrations.summary.pending ? "warn" : ""),
          card("Migrations unknown", migrations.summary.unknown, migrations.summary.unknown ? "bad" : ""),
        ),
        h("h3", {}, "Jobs"),
        table(
          ["Job", "Schedule", "Last run", "Duration", "Failures 24 h", "Health"],
          jobs.data.map((j) => [
            h("span", { class: "mono" }, j.name),
            j.schedule ?? "—",
            j.last_run ? `${j.last_run.status} ${when(j.last_run.started_at)}` : "never",
            j.last_run?.duration_ms === null || j.last_run === null
              ? "—"
              : `${Math.round(j.last_run.duration_ms)} ms`,
            String(j.failures_24h),
            j.problems.length === 0
              ? h("span", { class: "badge good" }, "healthy")
              : h("span", { class: "badge bad" }, j.problems.join("; ")),
          ]),
        ),
        h("h3", {}, "Migrations"),
        h(
          "p",
          {},
          migrations.up_to_date
            ? h("span", { class: "badge good" }, "up to date")
            : h("span", { class: "badge warn" }, "not up to date"),
        ),
        table(
          ["Version", "Name", "State"],
          [
            ...migrations.pending.map((
              m,
            ) => [
              m.version,
              m.name,
              h("span", { class: "badge warn" }, m.out_of_order ? "pending (out of order)" : "pending"),
            ]),
            ...migrations.unknown.map((
              m,
            ) => [m.version, m.name ?? "—", h("span", { class: "badge bad" }, "unknown")]),
            ...migrations.applied.slice(-10).reverse().map((
              m,
            ) => [m.version, m.name, h("span", { class: "badge good" }, "applied")]),
          ],
        ),
      );
    } catch (error) {
      if (currentView === "ops") showIf(token, h("h2", {}, "Operations"), errorBox(error));
    }
  };
  showIf(token, h("h2", {}, "Operations"), h("p", { class: "muted" }, "Loading…"));
  await render();
  // Refresh while the view is open and the tab is visible.
  timers.push(setInterval(() => {
    if (document.visibilityState === "visible") render();
  }, OPS_REFRESH_MS));
}

async function viewStaff() {
  const token = begin();
  if (!isAdmin()) {
    showIf(token, h("h2", {}, "Staff"), h("p", { class: "error" }, "Admins only."));
    return;
  }
  const output = h("div", { id: "staff-output" });
  const form = h(
    "form",
    {
      class: "filters",
      id: "staff-grant",
      onsubmit: async (event) => {
        event.preventDefault();
        const data = new FormData(form);
        try {
          await api("admin", `/staff/${encodeURIComponent(String(data.get("user_id")).trim())}`, {
            method: "PUT",
            body: { role: data.get("role") },
          });
          toast("Role granted");
          viewStaff();
        } catch (error) {
          output.replaceChildren(errorBox(error));
        }
      },
    },
    h(
      "label",
      {},
      "Clerk user id",
      h("input", { name: "user_id", required: true, placeholder: "user_…", autocomplete: "off" }),
    ),
    h(
      "label",
      {},
      "Role",
      h(
        "select",
        { name: "role" },
        h("option", { value: "support" }, "support"),
        h("option", { value: "admin" }, "admin"),
      ),
    ),
    h("button", { type: "submit" }, "Grant"),
  );
  try {
    const staff = await api("admin", "/staff");
    showIf(
      token,
      h("h2", {}, "Staff"),
      table(
        ["User", "Name", "Email", "Role", ""],
        staff.data.map((s) => [
          h("span", { class: "mono" }, s.user_id),
          s.display_name ?? ([s.first_name, s.last_name].filter(Boolean).join(" ") || "—"),
          s.email ?? "—",
          s.role,
          h("button", {
            type: "button",
            class: "danger revoke",
            "data-user": s.user_id,
            onclick: async () => {
              try {
                await api("admin", `/staff/${encodeURIComponent(s.user_id)}`, { method: "DELETE" });
                toast("Role revoked");
                viewStaff();
              } catch (error) {
                output.replaceChildren(errorBox(error));
              }
            },
          }, "Revoke"),
        ]),
      ),
      h("h3", {}, "Grant a role"),
      form,
      output,
    );
  } catch (error) {
    showIf(token, h("h2", {}, "Staff"), errorBox(error));
  }
}

// --- Routing -----------------------------------------------------------------------------------

let currentView = null;

function route() {
  for (const timer of timers) clearInterval(timer);
  timers = [];
  const [, view = "queue", arg] = location.hash.split("/");
  currentView = view;
  for (const link of document.querySelectorAll("nav a")) {
    if (link.dataset.view === view || (view === "request" && link.dataset.view === "queue")) {
      link.setAttribute("aria-current", "page");
    } else link.removeAttribute("aria-current");
  }
  if (view === "request" && arg) return viewRequest(decodeURIComponent(arg));
  if (view === "users") return viewUsers();
  if (view === "audit") return viewAudit();
  if (view === "ops") return viewOps();
  if (view === "staff") return viewStaff();
  return viewQueue();
}

async function start() {
  let config;
  try {
    config = await (await fetch("config.json", { cache: "no-store" })).json();
    auth = config.mode === "clerk" ? await clerkSignIn(config) : await devSignIn(config);
    me = await api("api", "/me");
  } catch (error) {
    show(h("h2", {}, "Sign-in failed"), errorBox(error));
    return;
  }
  const session = document.getElementById("session");
  session.replaceChildren(
    h("span", { class: "mono", id: "signed-in-as" }, auth.userId),
    h("span", { class: "badge", id: "role" }, me.role),
    h(
      "button",
      { type: "button", class: "secondary", id: "sign-out", onclick: () => auth.signOut() },
      "Sign out",
    ),
  );
  if (me.role !== "support" && me.role !== "admin") {
    // Nothing else is fetched: the endpoints would refuse anyway (403).
    show(
      h("h2", { id: "not-authorized" }, "Not authorized"),
      h("p", {}, "The support console is for support staff and admins."),
    );
    return;
  }
  document.getElementById("nav").hidden = false;
  for (const link of document.querySelectorAll("[data-admin]")) link.hidden = !isAdmin();
  addEventListener("hashchange", route);
  await route();
}

start();
