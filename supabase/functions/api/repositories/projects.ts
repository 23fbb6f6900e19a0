/** SQL for projects. Every statement runs as the caller, under RLS, in the transaction the route
 * chooses (queryAsUser for one statement, withUser for several); `user_id = userId` filters are
 * repeated in the queries so the planner picks the owner index (RLS would add them anyway). */
import type { JsonObject, Tx } from "../../_shared/db.ts";
import type { ProjectRow } from "../rows.ts";
import { provisionUser } from "./users.ts";
import type { TokenProfile } from "./users.ts";

const PROJECT_COLUMNS = `id, user_id, name, description, status, deleted_at, metadata, tabs_version::text,
  last_active_at, created_at, updated_at`;

export type ProjectStatus = "active" | "archived" | "deleted";

export interface ListProjectsOptions {
  statuses: ProjectStatus[];
  limit: number;
  /**
   * Keyset position: (updated_at, id) of the last row of the previous page, both as text
   * validated by pagination.ts. Cast in SQL at full precision (microseconds), never through a
   * JS Date (see pagination.ts).
   */
  after?: { updatedAt: string; id: string };
}

/** One page of the caller's projects, newest first; fetches `limit + 1` rows to know if more follow. */
export function listProjects(tx: Tx, userId: string, options: ListProjectsOptions) {
  return tx<(ProjectRow & { cursor_updated_at: string })[]>`
      select ${tx.unsafe(PROJECT_COLUMNS)},
             to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_updated_at
      from public.projects
      where user_id = ${userId}
        and status = any(${options.statuses}::text[])
        ${
    options.after
      ? tx`and (updated_at, id) < (${options.after.updatedAt}::text::timestamptz, ${options.after.id}::text::uuid)`
      : tx``
  }
      order by updated_at desc, id desc
      limit ${options.limit + 1}
    `;
}

/** The project as a one-row statement (no row when the caller cannot see it). */
export function getProject(tx: Tx, userId: string, id: string) {
  return tx<ProjectRow[]>`select ${
    tx.unsafe(PROJECT_COLUMNS)
  } from public.projects where id = ${id} and user_id = ${userId}`;
}

export interface NewProject {
  name: string;
  description?: string | null;
  metadata?: Record<string, unknown>;
}

/** Creates a project owned by the caller, provisioning the caller's user row if needed. */
export async function createProject(tx: Tx, userId: string, profile: TokenProfile, project: NewProject) {
  const provision = provisionUser(tx, userId, profile);
  const insert = tx<ProjectRow[]>`
      insert into public.projects (name, description, metadata)
      values (${project.name}, ${project.description ?? null}, ${
    tx.json((project.metadata ?? {}) as JsonObject)
  })
      returning ${tx.unsafe(PROJECT_COLUMNS)}
    `;
  // One round trip: both are sent at once and run in order (findOrProvisionMe says why).
  const [, [row]] = await Promise.all([provision, insert]);
  return row;
}

export interface ProjectPatch {
  name?: string;
  description?: string | null;
  metadata?: Record<string, unknown>;
  status?: "active" | "archived";
}

/** Status of a project the caller can see (undefined when it cannot): explains a failed change. */
async function currentStatus(tx: Tx, userId: string, id: string): Promise<ProjectStatus | undefined> {
  const [row] = await tx`select status from public.projects where id = ${id} and user_id = ${userId}`;
  return row?.status;
}

/** Why a change did not apply, or the changed row. */
export type ChangeOutcome =
  | { project: ProjectRow }
  | { project?: undefined; status: ProjectStatus | undefined };

/** Updates a project that is not deleted. */
export async function updateProject(
  tx: Tx,
  userId: string,
  id: string,
  patch: ProjectPatch,
): Promise<ChangeOutcome> {
  const [project] = await tx<ProjectRow[]>`
      update public.projects set
        name = coalesce(${patch.name ?? null}, name),
        description = case when ${"description" in patch} then ${
    patch.description ?? null
  } else description end,
        metadata = coalesce(${
    patch.metadata === undefined ? null : tx.json(patch.metadata as JsonObject)
  }::jsonb, metadata),
        status = coalesce(${patch.status ?? null}, status)
      where id = ${id} and user_id = ${userId} and status <> 'deleted'
      returning ${tx.unsafe(PROJECT_COLUMNS)}
    `;
  return project ? { project } : { status: await currentStatus(tx, userId, id) };
}

/**
 * Soft-deletes a project: one row, `found` false when the caller cannot see it. Deleting twice is
 * harmless. deleted_at follows status in the database (private.guard_project_change sets it to now()).
 */
export function softDeleteProject(tx: Tx, userId: string, id: string) {
  return tx<{ found: boolean }[]>`
      with target as (
        select id, status from public.projects where id = ${id} and user_id = ${userId}
      ), deleted as (
        update public.projects p set status = 'deleted'
        from target t where p.id = t.id and t.status <> 'deleted'
      )
      select exists (select 1 from target) as found
    `;
}

/**
 * Restores a soft-deleted project. The database keeps the rules for every client alike
 * (private.guard_project_change): deleted_at is cleared with the status, and a project deleted
 * longer ago than private.project_restore_window() is refused with P0001 `http:410`, which the
 * error mapping answers as 410 Gone.
 */
export async function restoreProject(tx: Tx, userId: string, id: string): Promise<ChangeOutcome> {
  const [project] = await tx<ProjectRow[]>`
      update public.projects set status = 'active'
      where id = ${id} and user_id = ${userId} and status = 'deleted'
      returning ${tx.unsafe(PROJECT_COLUMNS)}
    `;
  return project ? { project } : { status: await currentStatus(tx, userId, id) };
}
