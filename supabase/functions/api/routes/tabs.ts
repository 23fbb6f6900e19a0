/** GET/PUT /projects/:id/tabs: the ordered tab list, replaced as a whole under If-Match. */
import { Hono } from "hono";
import type { Context } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { HttpError, notFound } from "../../_shared/errors.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { withUser } from "../../_shared/db.ts";
import { ProjectIdParam, ReplaceTabsBody, TabList } from "../schemas.ts";
import { listTabs, replaceTabs } from "../repositories/tabs.ts";

const etag = (version: string) => `"${version}"`;

/** The version a client sends back: `"7"`, `W/"7"` or a bare `7`. */
function expectedVersion(c: Context): string {
  const header = c.req.header("if-match");
  if (header === undefined) {
    throw new HttpError(
      428,
      "Precondition Required",
      "send If-Match with the ETag of the tab list you changed",
    );
  }
  const match = /^\s*(?:W\/)?"?([0-9]{1,18})"?\s*$/.exec(header);
  if (!match) {
    throw new HttpError(412, "Precondition Failed", "If-Match does not name a version of this list");
  }
  return match[1];
}

export const tabRoutes = new Hono<SessionEnv>()
  .get(
    "/:id/tabs",
    documented({
      summary: "The ordered tab list; ETag carries its version",
      responses: { 200: TabList, 404: "No such project" },
    }),
    validate("param", ProjectIdParam),
    async (c) => {
      const claims = c.get("claims");
      const list = await withUser(claims, (tx) => listTabs(tx, claims, c.req.valid("param").id));
      if (!list) throw notFound("project");
      c.header("etag", etag(list.version));
      return c.json({ data: list.tabs, version: list.version });
    },
  )
  .put(
    "/:id/tabs",
    documented({
      summary: "Replace the ordered tab list (create, update, reorder, remove)",
      headers: [{ name: "If-Match", required: true }],
      responses: {
        200: TabList,
        404: "No such project",
        412: "The list changed since it was read",
        428: "If-Match missing",
      },
    }),
    validate("param", ProjectIdParam),
    validate("json", ReplaceTabsBody),
    async (c) => {
      const version = expectedVersion(c);
      const tabs = c.req.valid("json").tabs.map((tab, position) => ({
        id: tab.id ?? crypto.randomUUID(),
        position,
        title: tab.title,
        kind: tab.kind,
        metadata: tab.metadata ?? {},
      }));
      const claims = c.get("claims");
      const outcome = await withUser(
        claims,
        (tx) => replaceTabs(tx, claims, c.req.valid("param").id, version, tabs),
      );
      if (outcome.kind === "not_found") throw notFound("project");
      if (outcome.kind === "version_mismatch") {
        throw new HttpError(
          412,
          "Precondition Failed",
          "the tab list changed since you read it; reload and retry",
          {
            headers: { etag: etag(outcome.currentVersion) },
          },
        );
      }
      c.header("etag", etag(outcome.version));
      return c.json({ data: outcome.tabs, version: outcome.version });
    },
  );
