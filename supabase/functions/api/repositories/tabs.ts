/**
 * SQL for a project's ordered tab list. Every statement runs as the caller, under RLS, in the
 * transaction the route chooses (withUser); the owner filters read `claims.sub`.
 */
import type { JsonObject, Tx, UserClaims } from "../../_shared/db.ts";
import type { TabRow } from "../rows.ts";

const TAB_COLUMNS = `id, project_id, position, title, kind, metadata, created_at, updated_at`;

/** The tabs in order and the list's version; undefined when the caller cannot see the project. */
export async function listTabs(tx: Tx, claims: UserClaims, projectId: string) {
  const project = tx`
      select tabs_version::text as version from public.projects
      where id = ${projectId} and user_id = ${claims.sub} and status <> 'deleted'
    `;
  const tabs = tx<TabRow[]>`
      select ${tx.unsafe(TAB_COLUMNS)} from public.workspace_tabs
      where project_id = ${projectId} and user_id = ${claims.sub}
      order by position
    `;
  // One round trip: both are sent at once and run in order (postgres.js sends a statement only
  // when it is awaited).
  const [[found], rows] = await Promise.all([project, tabs]);
  return found ? { version: found.version as string, tabs: rows } : undefined;
}

export interface TabWrite {
  id: string;
  position: number;
  title: string;
  kind: string;
  metadata: Record<string, unknown>;
}

export type ReplaceOutcome =
  | { kind: "replaced"; version: string; tabs: TabRow[] }
  | { kind: "not_found" }
  | { kind: "version_mismatch"; currentVersion: string };

/**
 * Replaces the whole ordered list when `expectedVersion` is current, in one statement:
 * the version bump gates every change (no bump, no change), removed tabs are deleted, kept tabs
 * are updated in place, new ones inserted. Positions end dense 0..n-1; the deferrable unique
 * constraint is checked at the end of the statement, so a reorder never trips it midway.
 * A concurrent replacement holding the row lock makes this one re-check the version and miss.
 * The database moves tabs_version once per transaction for any tab change (a direct Data API
 * write included, private.follow_tab_list_change); the bump here is that one move, so the tab
 * writes after it move it no further. Tab ids are scoped to the project (primary key
 * (project_id, id)): an id another user's tab carries creates a tab here like any unused uuid.
 */
export async function replaceTabs(
  tx: Tx,
  claims: UserClaims,
  projectId: string,
  expectedVersion: string,
  tabs: TabWrite[],
): Promise<ReplaceOutcome> {
  const replace = tx`
      with bumped as (
        update public.projects set tabs_version = tabs_version + 1
        where id = ${projectId} and user_id = ${claims.sub} and status <> 'deleted'
          and tabs_version = ${expectedVersion}::bigint
        returning id, user_id, tabs_version
      ), incoming as (
        select * from jsonb_to_recordset(${tx.json(tabs as unknown as JsonObject[])})
          as t(id uuid, position integer, title text, kind text, metadata jsonb)
      ), removed as (
        delete from public.workspace_tabs w using bumped b
        where w.project_id = b.id and w.user_id = b.user_id
          -- not exists, not "<> all (select ...)": an anti-join instead of a rescan of incoming per tab.
          and not exists (select from incoming i where i.id = w.id)
        returning w.id
      ), changed as (
        update public.workspace_tabs w
        set position = i.position, title = i.title, kind = i.kind, metadata = i.metadata
        from incoming i, bumped b
        where w.project_id = b.id and w.user_id = b.user_id and w.id = i.id
          and (w.position, w.title, w.kind, w.metadata) is distinct from (i.position, i.title, i.kind, i.metadata)
        returning w.id
      ), existing as (
        -- This project's tabs, read through (project_id, user_id): a bare "w.id = i.id" probe
        -- would make the planner read every tab the caller owns (RLS hides the user id from it).
        select w.id from public.workspace_tabs w join bumped b on w.project_id = b.id and w.user_id = b.user_id
      ), created as (
        insert into public.workspace_tabs (id, project_id, user_id, position, title, kind, metadata)
        select i.id, b.id, b.user_id, i.position, i.title, i.kind, i.metadata
        from incoming i cross join bumped b
        where not exists (select 1 from existing e where e.id = i.id)
        returning id
      )
      select (select tabs_version::text from bumped) as new_version,
             (select count(*) from removed)::int as removed,
             (select count(*) from changed)::int as changed,
             (select count(*) from created)::int as created
    `;
  const list = tx<TabRow[]>`
      select ${tx.unsafe(TAB_COLUMNS)} from public.workspace_tabs
      where project_id = ${projectId} and user_id = ${claims.sub}
      order by position
    `;
  // The list read travels with the sync and runs right after it, in the same transaction, so it
  // sees the new list; on a version mismatch its rows are not used.
  const [[result], rows] = await Promise.all([replace, list]);
  if (result.new_version !== null) {
    return { kind: "replaced", version: result.new_version, tabs: rows };
  }

  const [project] = await tx`
      select tabs_version::text as version from public.projects
      where id = ${projectId} and user_id = ${claims.sub} and status <> 'deleted'
    `;
  return project ? { kind: "version_mismatch", currentVersion: project.version } : { kind: "not_found" };
}
