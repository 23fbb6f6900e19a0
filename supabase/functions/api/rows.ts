/**
 * The rows the api's repositories select, typed from the generated database types
 * (_shared/database.types.ts: `npm run db:types`, drift-tested by tests/migrations_test.ts), the
 * one source of column names and types: picked as the select lists pick them, with their casts
 * (bigint as text). Timestamps are typed as the client receives them: postgres.js returns Date
 * objects, which c.json writes as these ISO strings. schemas.ts checks at compile time that each
 * response schema (and so the OpenAPI document) names exactly these columns.
 */
import type { Tables } from "../_shared/database.types.ts";

export type UserRow = Pick<
  Tables<"users">,
  | "id"
  | "email"
  | "first_name"
  | "last_name"
  | "image_url"
  | "display_name"
  | "preferences"
  | "role"
  | "last_sign_in_at"
  | "last_active_at"
  | "created_at"
  | "updated_at"
>;

export type ProjectRow = Omit<Tables<"projects">, "tabs_version"> & { tabs_version: string };

export type TabRow = Omit<Tables<"workspace_tabs">, "user_id">;

export type HistoryRow = Omit<Tables<"workspace_history">, "id" | "project_id" | "user_id"> & { id: string };
