/**
 * Request and response schemas of the client API. The single source for validation (routes) and
 * for the OpenAPI document (generated from the routes by _shared/openapi.ts). Objects are strict: unknown fields are refused.
 */
import { z } from "zod";
import { Cursor, JsonObject as jsonObject, page, UuidIdParam } from "../_shared/schemas.ts";
import type { Holds, SameFields } from "../_shared/schemas.ts";
import type { HistoryRow, ProjectRow, TabRow, UserRow } from "./rows.ts";

export { page };

/** Bounded JSON object (serialized size), so one field cannot carry megabytes. */
const boundedObject = (maxBytes: number) =>
  jsonObject.refine((value) => new TextEncoder().encode(JSON.stringify(value)).length <= maxBytes, {
    message: `must serialize to at most ${maxBytes} bytes`,
  });

export const ProjectStatus = z.enum(["active", "archived", "deleted"]);

export const ProjectIdParam = UuidIdParam;

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: Cursor.optional(),
});

export const ProjectListQuery = PageQuery.extend({
  /** Default: active and archived projects (deleted ones only when asked for). */
  status: ProjectStatus.optional(),
});

export const UpdateMeBody = z
  .strictObject({
    display_name: z.string().trim().min(1).max(100).nullable().optional(),
    preferences: boundedObject(16_000).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: "nothing to update" });

export const CreateProjectBody = z.strictObject({
  name: z.string().trim().min(1).max(200),
  description: z.string().max(10_000).nullable().optional(),
  metadata: boundedObject(60_000).optional(),
});

export const UpdateProjectBody = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    description: z.string().max(10_000).nullable().optional(),
    metadata: boundedObject(60_000).optional(),
    /** Archive or unarchive. Deleting is DELETE /projects/:id; undeleting is POST .../restore. */
    status: z.enum(["active", "archived"]).optional(),
  })
  .refine((body) => Object.keys(body).length > 0, { message: "nothing to update" });

export const MAX_TABS_PER_PROJECT = 200;

export const TabInput = z.strictObject({
  /** Existing tab id to keep it; omit (or a new uuid) to create a tab. */
  id: z.uuid().optional(),
  title: z.string().trim().min(1).max(200),
  kind: z.string().regex(/^[a-z][a-z0-9_-]{0,49}$/, "lowercase slug, at most 50 characters"),
  metadata: boundedObject(60_000)
    .refine(
      (metadata) =>
        !("activeBriefSectionIds" in metadata) ||
        (Array.isArray(metadata.activeBriefSectionIds) &&
          metadata.activeBriefSectionIds.every((item) => typeof item === "string")),
      { message: "activeBriefSectionIds must be an array of strings" },
    )
    .optional(),
});

export const ReplaceTabsBody = z
  .strictObject({ tabs: z.array(TabInput).max(MAX_TABS_PER_PROJECT) })
  .refine((body) => {
    const ids = body.tabs.map((tab) => tab.id).filter((id) => id !== undefined);
    return new Set(ids).size === ids.length;
  }, { message: "tab ids must be unique", path: ["tabs"] });

// Response shapes (documented in OpenAPI; rows come from the database in this shape).
export const User = z.object({
  id: z.string(),
  email: z.string().nullable(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  image_url: z.string().nullable(),
  display_name: z.string().nullable(),
  preferences: jsonObject,
  role: z.enum(["user", "support", "admin"]),
  last_sign_in_at: z.string().nullable(),
  last_active_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const Project = z.object({
  id: z.uuid(),
  user_id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  status: ProjectStatus,
  deleted_at: z.string().nullable(),
  metadata: jsonObject,
  tabs_version: z.string().describe("opaque version for If-Match"),
  last_active_at: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const Tab = z.object({
  id: z.uuid(),
  project_id: z.uuid(),
  position: z.number().int(),
  title: z.string(),
  kind: z.string(),
  metadata: jsonObject,
  created_at: z.string(),
  updated_at: z.string(),
});

export const HistoryEvent = z.object({
  id: z.string(),
  tab_id: z.uuid().nullable(),
  action: z.string(),
  diff: jsonObject,
  changed_at: z.string(),
});

export const TabList = z.object({ data: z.array(Tab), version: z.string() });

/**
 * Compile-time check (deno check): each response schema names exactly the columns its repository
 * selects (rows.ts, from the generated database types), so a column added to a select list or a
 * table and not to the documented shape, or the reverse, fails `npm run check`.
 */
export type ResponseShapesMatchRows = [
  Holds<SameFields<z.output<typeof User>, UserRow>>,
  Holds<SameFields<z.output<typeof Project>, ProjectRow>>,
  Holds<SameFields<z.output<typeof Tab>, TabRow>>,
  Holds<SameFields<z.output<typeof HistoryEvent>, HistoryRow>>,
];
