/** Projects: list, create, read, update, soft delete, restore. */
import { Hono } from "hono";
import type { SessionEnv } from "../../_shared/auth.ts";
import { HttpError, notFound } from "../../_shared/errors.ts";
import { decodeCursor, encodeCursor, instantPart, takePage, uuidPart } from "../../_shared/pagination.ts";
import { validate } from "../../_shared/validation.ts";
import { documented } from "../../_shared/openapi.ts";
import { queryAsUser, withUser } from "../../_shared/db.ts";
import {
  CreateProjectBody,
  page,
  Project,
  ProjectIdParam,
  ProjectListQuery,
  UpdateProjectBody,
} from "../schemas.ts";
import {
  createProject,
  getProject,
  listProjects,
  restoreProject,
  softDeleteProject,
  updateProject,
} from "../repositories/projects.ts";
import type { ChangeOutcome } from "../repositories/projects.ts";
import { profileFromClaims } from "../profile.ts";
import { publicUrl } from "../../_shared/public_url.ts";

/** Turns a change that did not apply into the right answer; another user's project is a 404. */
function changedProjectOr(outcome: ChangeOutcome) {
  if (outcome.project) return outcome.project;
  if (outcome.status === undefined) throw notFound("project");
  // A restore past the window is refused by the database itself (410, see restoreProject).
  throw new HttpError(409, "Conflict", `the project is ${outcome.status}`);
}

export const projectRoutes = new Hono<SessionEnv>()
  .get(
    "/",
    documented({
      summary: "The caller's projects, newest first (keyset pagination)",
      responses: { 200: page(Project) },
    }),
    validate("query", ProjectListQuery),
    async (c) => {
      const { limit, cursor, status } = c.req.valid("query");
      const after = cursor ? decodeCursor(cursor, [instantPart, uuidPart]) : undefined;
      const claims = c.get("claims");
      const rows = await queryAsUser(claims, (tx) =>
        listProjects(tx, claims.sub, {
          statuses: status ? [status] : ["active", "archived"],
          limit,
          after: after && { updatedAt: after[0], id: after[1] },
        }));
      const { items, hasMore } = takePage(rows, limit);
      const last = items.at(-1);
      return c.json({
        data: items.map(({ cursor_updated_at: _, ...project }) => project),
        next_cursor: hasMore && last ? encodeCursor([last.cursor_updated_at, last.id]) : null,
      });
    },
  )
  .post(
    "/",
    documented({ summary: "Create a project", responses: { 201: Project } }),
    validate("json", CreateProjectBody),
    async (c) => {
      const claims = c.get("claims");
      const body = c.req.valid("json");
      const project = await withUser(
        claims,
        (tx) => createProject(tx, claims.sub, profileFromClaims(claims), body),
      );
      c.header("location", publicUrl(`${new URL(c.req.url).pathname}/${project.id}`));
      return c.json(project, 201);
    },
  )
  .get(
    "/:id",
    documented({ summary: "One project", responses: { 200: Project, 404: "No such project" } }),
    validate("param", ProjectIdParam),
    async (c) => {
      const claims = c.get("claims");
      const [project] = await queryAsUser(
        claims,
        (tx) => getProject(tx, claims.sub, c.req.valid("param").id),
      );
      if (!project) throw notFound("project");
      return c.json(project);
    },
  )
  .patch(
    "/:id",
    documented({
      summary: "Update, archive or unarchive",
      responses: { 200: Project, 404: "No such project", 409: "The project is deleted" },
    }),
    validate("param", ProjectIdParam),
    validate("json", UpdateProjectBody),
    async (c) => {
      const claims = c.get("claims");
      const { id } = c.req.valid("param");
      const outcome = await withUser(claims, (tx) => updateProject(tx, claims.sub, id, c.req.valid("json")));
      return c.json(changedProjectOr(outcome));
    },
  )
  .delete(
    "/:id",
    documented({
      summary: "Soft delete (restorable within the retention window)",
      responses: { 204: "Deleted", 404: "No such project" },
    }),
    validate("param", ProjectIdParam),
    async (c) => {
      const claims = c.get("claims");
      const [{ found }] = await queryAsUser(
        claims,
        (tx) => softDeleteProject(tx, claims.sub, c.req.valid("param").id),
      );
      if (!found) throw notFound("project");
      return c.body(null, 204);
    },
  )
  .post(
    "/:id/restore",
    documented({
      summary: "Restore a soft-deleted project",
      responses: {
        200: Project,
        404: "No such project",
        409: "The project is not deleted",
        410: "Past the retention window",
      },
    }),
    validate("param", ProjectIdParam),
    async (c) => {
      const claims = c.get("claims");
      const outcome = await withUser(claims, (tx) => restoreProject(tx, claims.sub, c.req.valid("param").id));
      return c.json(changedProjectOr(outcome));
    },
  );
